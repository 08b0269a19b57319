"""`manage.py create_api_token`: the printed token must work, once, with the asked scope."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from infrastructor.auth import resolve_token
from infrastructor.models import ApiToken, Scope


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("create_api_token", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def last_line(text: str) -> str:
    """What `| tail -1` captures."""
    return text.rstrip("\n").splitlines()[-1]


@pytest.mark.django_db
def test_the_printed_token_authenticates_as_the_user(viewer_user: User) -> None:
    # when
    out, _ = run("ci", "--user", viewer_user.username)

    # then
    token = resolve_token(last_line(out))
    assert token is not None
    assert (token.name, token.user, token.scope) == ("ci", viewer_user, Scope.READ)
    assert token.expires_at is None


@pytest.mark.django_db
def test_the_how_to_hint_goes_to_stderr_and_stdout_ends_with_the_token_alone(
    viewer_user: User,
) -> None:
    # when
    out, err = run("ci", "--user", viewer_user.username)

    # then
    assert "Authorization: Bearer" in err
    assert "Authorization" not in out
    assert last_line(out).startswith("ifr_")
    assert " " not in last_line(out)


@pytest.mark.django_db
def test_the_operator_scope_is_given_when_asked_for(viewer_user: User) -> None:
    # when
    out, _ = run("deploy", "--user", viewer_user.username, "--scope", "operator")

    # then
    token = resolve_token(last_line(out))
    assert token is not None
    assert token.scope == Scope.OPERATOR


@pytest.mark.django_db
def test_an_unknown_scope_is_refused(viewer_user: User) -> None:
    # when / then
    with pytest.raises(CommandError, match="invalid choice: 'admin'"):
        run("deploy", "--user", viewer_user.username, "--scope", "admin")


@pytest.mark.django_db
def test_expires_days_sets_the_expiry_that_many_days_ahead(viewer_user: User) -> None:
    # given
    before = timezone.now()

    # when
    out, _ = run("ci", "--user", viewer_user.username, "--expires-days", "30")

    # then
    token = resolve_token(last_line(out))
    assert token is not None
    assert token.expires_at is not None
    assert before + dt.timedelta(days=30) <= token.expires_at
    assert token.expires_at <= timezone.now() + dt.timedelta(days=30)


@pytest.mark.django_db
def test_a_zero_day_expiry_is_refused(viewer_user: User) -> None:
    # when / then
    with pytest.raises(CommandError, match="at least 1 day"):
        run("ci", "--user", viewer_user.username, "--expires-days", "0")
    assert not ApiToken.objects.exists()


@pytest.mark.django_db
def test_an_unknown_user_is_an_error_and_nothing_is_created() -> None:
    # when / then
    with pytest.raises(CommandError, match="no user 'ghost'; pass --create-user"):
        run("ci", "--user", "ghost")
    assert not User.objects.filter(username="ghost").exists()
    assert not ApiToken.objects.exists()


@pytest.mark.django_db
def test_create_user_makes_a_user_who_cannot_log_in_with_a_password() -> None:
    # when
    out, err = run("ci", "--user", "robot", "--create-user")

    # then
    robot = User.objects.get(username="robot")
    assert not robot.has_usable_password()
    assert not robot.is_staff
    token = resolve_token(last_line(out))
    assert token is not None
    assert token.user == robot
    assert "created user 'robot'" in err


@pytest.mark.django_db
def test_create_user_uses_the_existing_user_when_there_is_one(viewer_user: User) -> None:
    # when
    out, _ = run("ci", "--user", viewer_user.username, "--create-user")

    # then
    token = resolve_token(last_line(out))
    assert token is not None
    assert token.user == viewer_user
    assert User.objects.count() == 1


@pytest.mark.django_db
def test_a_second_token_with_the_same_name_for_the_user_is_an_error(viewer_user: User) -> None:
    # given
    run("ci", "--user", viewer_user.username)

    # when / then
    with pytest.raises(CommandError, match="already has a token named 'ci'"):
        run("ci", "--user", viewer_user.username)
    assert ApiToken.objects.count() == 1


@pytest.mark.django_db
def test_the_same_token_name_is_fine_for_another_user(
    viewer_user: User, operator_user: User
) -> None:
    # given
    run("ci", "--user", viewer_user.username)

    # when
    out, _ = run("ci", "--user", operator_user.username)

    # then
    token = resolve_token(last_line(out))
    assert token is not None
    assert token.user == operator_user
