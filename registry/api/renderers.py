"""The browsable API, with forms only for what the user may do and read.

DRF's `BrowsableAPIRenderer` draws a PUT/PATCH/POST form whenever the view's permission
classes pass, pre-filled from the write serializer: a partner reading a project got an
edit form carrying the staff-only notes. Here a view may answer `may_show_form(method,
obj)`; when it says no, neither the HTML form nor the raw-data form is drawn for that
method (DRF calls `show_form_for_method` for both).
"""

from rest_framework.renderers import BrowsableAPIRenderer


class RegistryBrowsableAPIRenderer(BrowsableAPIRenderer):
    def show_form_for_method(self, view, method, request, obj):
        if not super().show_form_for_method(view, method, request, obj):
            return False
        may_show_form = getattr(view, "may_show_form", None)
        # Views that do not say are the read-only ones (reference data, partners): their
        # methods are GET only and DRF draws no form for them anyway.
        return may_show_form is None or bool(may_show_form(method, obj))
