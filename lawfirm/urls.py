from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse
from django.urls import include, path
from django.views.i18n import set_language

from access import views as access_views


@login_not_required
def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


handler403 = "lawfirm.errors.permission_denied"

urlpatterns = [
    path("", access_views.home, name="home"),
    path("", include("access.urls")),
    path("matters/", include("matters.urls")),
    path("audit/", include("audit.urls")),
    path("training/", include("training.urls")),
    path("admin/", admin.site.urls),
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("healthz/", healthz, name="healthz"),
]
