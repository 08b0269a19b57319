"""Secret masking: the values of secret-looking keys are replaced, the lines around them and
what merely looks alike are kept."""

from __future__ import annotations

import pytest

from devices.configs import MASK, mask_diff, mask_line, mask_secrets
from tests.samples import REPO_ROOT


@pytest.mark.parametrize(
    ("line", "masked"),
    [
        ("POSTGRES_PASSWORD=hunter2", f"POSTGRES_PASSWORD={MASK}"),
        ("export API_KEY=abc123", f"export API_KEY={MASK}"),
        ("KEY=abc123", f"KEY={MASK}"),
        ("      - DB_PASSWD=s3cr3t", f"      - DB_PASSWD={MASK}"),
        ('      - "JWT_SECRET=s3cr3t"', f'      - "JWT_SECRET={MASK}"'),
        ("      GITHUB_TOKEN: ghp_abcdef", f"      GITHUB_TOKEN: {MASK}"),
        ("  password: 'hunter2'  ", f"  password: '{MASK}'  "),
        ('  "password": "hunter2",', f'  "password": "{MASK}",'),
        ('{"user": "bob", "api_key": "abc"}', f'{{"user": "bob", "api_key": "{MASK}"}}'),
        ("  apiKey: abc", f"  apiKey: {MASK}"),
        ("  secret_key = 'x' # rotate", f"  secret_key = '{MASK}' # rotate"),
        ("command: --password=hunter2 --verbose", f"command: --password={MASK} --verbose"),
        ("url: https://x.example/cb?token=abc&user=1", f"url: https://x.example/cb?token={MASK}&user=1"),
        ("DATABASE_URL: postgres://app:hunter2@db:5432/app",
         f"DATABASE_URL: postgres://app:{MASK}@db:5432/app"),
        ("POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:-infrastructor}", f"POSTGRES_PASSWORD: {MASK}"),
    ],
)  # fmt: skip
def test_secret_values_are_masked(line: str, masked: str) -> None:
    assert mask_line(line) == masked
    assert "hunter2" not in mask_line(line) and "abc" not in mask_line(line).replace("abcdef", "")


@pytest.mark.parametrize(
    "line",
    [
        "monkey=banana",  # "key" only as a whole word
        "services:",
        "secrets:",  # a YAML block: no value to hide
        "PASSWORD=",  # empty: nothing to hide
        "    ssl_certificate_key /config/keys/cert.key;",  # nginx, no = or :
        "      - PUID=1000",
        "  image: lscr.io/linuxserver/swag:latest",
        "    proxy_pass $upstream_proto://$upstream_app:$upstream_port;",
        "  keyboard: us",
    ],
)
def test_lines_without_secrets_are_kept(line: str) -> None:
    assert mask_line(line) == line


def test_a_real_compose_file_keeps_its_shape_and_loses_its_password() -> None:
    # given the repository's own docker-compose.yml (a real Compose file with a DB password)
    text = (REPO_ROOT / "docker-compose.yml").read_text()
    assert "${POSTGRES_PASSWORD:-infrastructor}@postgres" in text
    # when
    masked = mask_secrets(text)
    # then every line is there, and the password default nowhere
    assert len(masked.splitlines()) == len(text.splitlines()) and masked.endswith("\n")
    assert "POSTGRES_PASSWORD:-infrastructor" not in masked
    assert f"postgres://infrastructor:{MASK}@postgres:5432/infrastructor" in masked
    assert f"      POSTGRES_PASSWORD: {MASK}" in masked
    assert "      POSTGRES_USER: infrastructor" in masked  # not a secret
    assert mask_secrets(masked) == masked  # masking twice changes nothing


def test_a_diff_is_masked_past_its_prefixes() -> None:
    diff = (
        "--- a/srv/.env\n+++ b/srv/.env\n@@ -1,2 +1,2 @@\n"
        " USER=bob\n-PASSWORD=old-secret\n+PASSWORD=new-secret\n"
    )
    masked = mask_diff(diff)
    assert masked.splitlines() == [
        "--- a/srv/.env", "+++ b/srv/.env", "@@ -1,2 +1,2 @@",
        " USER=bob", f"-PASSWORD={MASK}", f"+PASSWORD={MASK}",
    ]  # fmt: skip
