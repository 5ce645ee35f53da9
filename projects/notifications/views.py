from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from projects.notifications import services
from projects.notifications.models import Kind
from registry.preferences import muted, set_muted


class PreferencesForm(forms.Form):
    kinds = forms.MultipleChoiceField(
        label=gettext_lazy("Send me notifications of"),
        choices=Kind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


@staff_member_required
def notifications_view(request):
    """The signed-in user's notices (newest first) and which kinds they receive."""
    user = request.user
    if request.method == "POST":
        if "mark_read" in request.POST:
            services.mark_read(user=user)
            return redirect("admin-notifications")
        form = PreferencesForm(request.POST)
        if form.is_valid():
            wanted = set(form.cleaned_data["kinds"])
            set_muted(user=user, kinds=[kind for kind in Kind.values if kind not in wanted])
            messages.success(request, _("Your notification settings are saved."))
            return redirect("admin-notifications")
    else:
        form = PreferencesForm(
            initial={"kinds": [kind for kind in Kind.values if kind not in muted(user)]}
        )
    notices = user.notifications.select_related("project")[:100]
    context = {
        **admin.site.each_context(request),
        "title": _("Notifications"),
        "notices": notices,
        "form": form,
    }
    return render(request, "notifications/list.html", context)
