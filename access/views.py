"""Sign-in, second factor, enrolment, account security and the home page."""

from __future__ import annotations

import math
from enum import StrEnum
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.views import LoginView
from django.contrib.sessions.models import Session
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST
from django_otp import devices_for_user, match_token
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice

from access import otp, services
from access.forms import EnrollForm, SignInForm, TokenForm
from access.middleware import second_factor_not_required
from access.models import Role, UserSession
from access.sessions import forget_session, keep_session_after_password_change, rotate_session, start_session
from audit.actions import AuditAction, Outcome
from audit.events import record_event, session_ref
from audit.permissions import is_reviewer

_NEW_CODES = "custos_new_backup_codes"


def _with_next(url_name: str, next_url: str) -> str:
    return f"{reverse(url_name)}?{urlencode({'next': next_url})}"


def _next_url(request: HttpRequest, default: str = "home") -> str:
    candidate = request.POST.get("next") or request.GET.get("next")
    if candidate and url_has_allowed_host_and_scheme(candidate, {request.get_host()}, request.is_secure()):
        return candidate
    return reverse(default)


class SignInView(LoginView):
    template_name = "access/login.html"
    form_class = SignInForm
    redirect_authenticated_user = False

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "demo": settings.DEMO}

    def form_valid(self, form):
        # A fresh session for every password sign-in: whatever the old one held
        # (a verified second factor, its sign-in time) must not carry over.
        forget_session(self.request)
        self.request.session.flush()
        auth_login(self.request, form.get_user())
        start_session(self.request)
        target = "access:verify" if otp.has_confirmed_device(self.request.user) else "access:enroll"
        return HttpResponseRedirect(_with_next(target, _next_url(self.request)))


sign_in = login_not_required(SignInView.as_view())


@second_factor_not_required
def verify(request: HttpRequest) -> HttpResponse:
    if request.user.is_verified():
        return redirect(_next_url(request))
    if not otp.has_confirmed_device(request.user):
        return redirect(_with_next("access:enroll", _next_url(request)))
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        wait = _throttle_wait(devices_for_user(request.user, confirmed=True))
        device = match_token(request.user, form.cleaned_data["token"]) if not wait else None
        if device is not None:
            password_session = session_ref(request)
            otp_login(request, device)
            rotate_session(request)
            _record_sign_in(device, password_session=password_session)
            if isinstance(device, StaticDevice):
                messages.warning(
                    request,
                    _("You signed in with a backup code; %(count)d remain. Each code works once.")
                    % {"count": otp.remaining_backup_codes(request.user)},
                )
            return redirect(_next_url(request))
        if wait:
            _record_second_factor_failure(_CodeRefused.THROTTLED)
            form.add_error("token", _too_many(wait))
        else:
            _record_second_factor_failure(_CodeRefused.WRONG_CODE)
            form.add_error("token", _("That code is not valid, or it has already been used."))
    return render(request, "access/verify.html", {"form": form, "next": _next_url(request)})


class _CodeRefused(StrEnum):
    """Why a second-factor code was refused (recorded as the event's reason)."""

    WRONG_CODE = "wrong code"
    THROTTLED = "throttled"


def _record_second_factor_failure(reason: _CodeRefused, *, enrolment: bool = False) -> None:
    record_event(
        AuditAction.SECOND_FACTOR_FAILED, outcome=Outcome.FAILURE, reason=reason, detail={"enrolment": enrolment}
    )


def _record_sign_in(device, *, password_session: str, enrolment: bool = False) -> None:
    """Recorded once both factors passed, in the session's final id (rotated just before).

    ``password_session``: the reference of the session the password step opened,
    so its refused codes can be tied to this sign-in.
    """
    method = "backup code" if isinstance(device, StaticDevice) else "authenticator"
    detail = {"second_factor": method, "enrolment": enrolment, "password_session": password_session}
    record_event(AuditAction.SIGN_IN, detail=detail)


def _throttle_wait(devices) -> int:
    """Seconds until django-otp accepts codes again after wrong ones (0: it accepts them now)."""
    wait = 0
    for device in devices:
        allowed, detail = device.verify_is_allowed()
        if not allowed and detail and detail.get("locked_until"):
            wait = max(wait, math.ceil((detail["locked_until"] - timezone.now()).total_seconds()))
    return wait


def _too_many(seconds: int) -> str:
    return ngettext(
        "Too many wrong codes. Try again in %(seconds)d second.",
        "Too many wrong codes. Try again in %(seconds)d seconds.",
        seconds,
    ) % {"seconds": seconds}


@second_factor_not_required
def enroll(request: HttpRequest) -> HttpResponse:
    user = request.user
    if user.is_verified():
        return redirect(_next_url(request))
    if otp.has_confirmed_device(user):
        # A password alone never adds a device to an account that has one.
        return redirect(_with_next("access:verify", _next_url(request)))
    device = otp.pending_authenticator(request)
    form = EnrollForm(request.POST or None)
    wait = _throttle_wait([device]) if request.method == "POST" else 0
    if wait and form.is_valid():
        _record_second_factor_failure(_CodeRefused.THROTTLED, enrolment=True)
        form.add_error("token", _too_many(wait))
    elif request.method == "POST" and form.is_valid():
        codes = otp.confirm_authenticator(user, device, form.cleaned_data["token"])
        if codes is not None:
            password_session = session_ref(request)
            otp_login(request, device)
            rotate_session(request)
            _record_sign_in(device, password_session=password_session, enrolment=True)
            request.session[_NEW_CODES] = codes
            return redirect(_with_next("access:backup_codes", _next_url(request)))
        _record_second_factor_failure(_CodeRefused.WRONG_CODE, enrolment=True)
        form.add_error("token", _("That code does not match. Check the clock on your phone and try the newest code."))
    secret = otp.base32_secret(device)
    context = {
        "form": form,
        "qr_svg": otp.qr_svg(device),
        "secret": otp.grouped(secret),
        "next": _next_url(request),
    }
    return render(request, "access/enroll.html", context)


def backup_codes(request: HttpRequest) -> HttpResponse:
    """Shows the new codes until the person says they have saved them (a reload or a
    language switch must not lose them)."""
    if request.method == "POST":
        request.session.pop(_NEW_CODES, None)
        return redirect(_next_url(request))
    codes = request.session.get(_NEW_CODES)
    if not codes:
        messages.info(request, _("Backup codes are shown only once. You can issue a new set on this page."))
        return redirect("access:security")
    return render(request, "access/backup_codes.html", {"codes": codes, "next": _next_url(request)})


def security(request: HttpRequest) -> HttpResponse:
    context = {
        "remaining_codes": otp.remaining_backup_codes(request.user),
        "sessions": UserSession.objects.filter(
            user=request.user,
            session_key__in=Session.objects.filter(expire_date__gt=timezone.now()).values("session_key"),
        ).order_by("-created_at"),
        "current_key": request.session.session_key,
    }
    return render(request, "access/security.html", context)


@require_POST
def sign_out_other_sessions(request: HttpRequest) -> HttpResponse:
    ended = services.end_sessions(request.user, except_key=request.session.session_key)
    messages.success(
        request,
        ngettext("Signed out of %(count)d other session.", "Signed out of %(count)d other sessions.", ended)
        % {"count": ended},
    )
    return redirect("access:security")


def change_password(request: HttpRequest) -> HttpResponse:
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        keep_session_after_password_change(request)
        services.end_sessions(request.user, except_key=request.session.session_key)
        messages.success(request, _("Your password was changed. Your other sessions were signed out."))
        return redirect("access:security")
    return render(request, "access/password_change.html", {"form": form})


@require_POST
def new_backup_codes(request: HttpRequest) -> HttpResponse:
    request.session[_NEW_CODES] = otp.replace_backup_codes(request.user)
    return redirect(_with_next("access:backup_codes", reverse("access:security")))


@require_POST
@login_not_required
def sign_out(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        record_event(AuditAction.SIGN_OUT)
    forget_session(request)
    auth_logout(request)
    messages.success(request, _("You have signed out."))
    return redirect("access:login")


def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    if user.has_role(Role.LAWYER) or user.has_role(Role.PARTNER) or user.has_role(Role.VENDOR):
        return redirect("matters:list")
    if user.has_role(Role.SECURITY_OFFICER) and is_reviewer(user):
        return redirect("audit:events")
    return render(request, "access/home.html")


def locked_out(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """django-axes' response to a locked-out sign-in: says how long the pause lasts."""
    minutes = max(1, int(settings.AXES_COOLOFF_TIME.total_seconds() // 60))
    return render(request, "access/lockout.html", {"cooloff_minutes": minutes}, status=429)
