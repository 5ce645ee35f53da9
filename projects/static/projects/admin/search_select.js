/* Searched changelist filters (projects.admin.filters.SearchFilter): choosing a row, or
 * clearing the choice, applies the filter at once. Select2, started by the admin's own
 * autocomplete.js, announces both as a jQuery "change" on the select; a cleared select is
 * left out of the form, so its parameter is dropped rather than sent empty. */
"use strict";
{
  const $ = django.jQuery;
  $(document).on("change", "form.search-filter-form select.search-select", function () {
    if (!this.value) {
      this.disabled = true;
    }
    this.form.submit();
  });
}
