"""Database connection strings with credentials: URL, JDBC, libpq keyword and CLI forms.

`postgres://user:pass@host/db`, `mongodb+srv://…`, `redis://:pass@host` and
`jdbc:mysql://host/db?user=x&password=y` carry the password in the URL (the query-string
and `Server=…;Password=…;` forms are `key=value` pairs that the password-assignment
detector finds); Oracle's thin driver writes `jdbc:oracle:thin:user/pass@//host:1521/db`;
libpq takes `host=… user=… password=…`, reported whole (host and user name belong to the
credential, and an address in it is no finding of its own); and `mysql -u root -p'…'`
passes it on the command line, as `redis-cli -a …`, `sqlcmd -P …` and any
`--password=…` do; Go's MySQL driver writes `user:pass@tcp(host:3306)/db` and `sqlplus`
`user/pass@//host:1521/svc`. A placeholder (`user:pass@localhost`, `USER:PASSWORD@HOST`)
or a token that a detector of its own names (`https://oauth2:glpat-…@gitlab…`) is not
reported here.
"""

from __future__ import annotations

from sidecar.classify import validators as v
from sidecar.classify.detectors.base import Detector

PLACEHOLDER_PASSWORDS = frozenset({"pass", "pwd", "pw", "passwd", "pass123", "pword", "xxx"})
TOKEN_PREFIXES = ("glpat-", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "x-oauth")
"""Tokens passed as a URL's password: their own detectors report them."""


def password_ok(password: str) -> bool:
    lowered = password.lower()
    return (
        len(password) >= 3
        and lowered not in PLACEHOLDER_PASSWORDS
        and not lowered.startswith(TOKEN_PREFIXES)
        and v.not_placeholder(password)
    )


def _url_credentials(text: str) -> tuple[int, int]:
    """`user:password@host` of scheme://user:password@host: the whole authority goes, so
    the host part is not mistaken for an e-mail address either."""
    return text.find("://") + 3, len(text)


def _url_password_ok(text: str) -> bool:
    at = text.rfind("@")
    return password_ok(text[text.rfind(":", 0, at) + 1 : at])


URL_PASSWORD = Detector(
    "secret.url_password",
    # The user may be empty: redis://:password@host.
    (r"\b[a-z][a-z0-9+.\-]{1,20}://[^\s:/@\"']{0,64}:[^\s@/\"']{1,128}@[A-Za-z0-9.\-\[\]]+",),
    validator=_url_password_ok,
    narrow=_url_credentials,
    confidence=0.95,
    caseless=True,
)


def _oracle_credentials(text: str) -> tuple[int, int]:
    """`user/password@//host:port/service` after `jdbc:oracle:thin:`."""
    return text.lower().find("thin:") + 5, len(text)


def _oracle_ok(text: str) -> bool:
    start = _oracle_credentials(text)[0]
    at = text.rfind("@")
    return password_ok(text[text.find("/", start) + 1 : at])


ORACLE_THIN = Detector(
    "secret.url_password",
    (r"\bjdbc:oracle:thin:[A-Za-z0-9_$#.\-]{1,64}/[^\s@/\"']{1,128}@(//)?[A-Za-z0-9.\-\[\]]+",),
    validator=_oracle_ok,
    narrow=_oracle_credentials,
    confidence=0.95,
    caseless=True,
)


def _libpq_ok(text: str) -> bool:
    value = text[text.lower().rfind("password=") + len("password=") :]
    return password_ok(value.strip("'\""))


LIBPQ_KEYWORDS = Detector(
    "secret.password_assignment",
    (
        r"\b(host|hostaddr|dbname|user|port|sslmode)=[^\s'\"]+([ \t]+[a-z_]+=[^\s'\"]+){0,8}"
        r"[ \t]+password=[^\s'\"]{3,}",
    ),
    validator=_libpq_ok,
    confidence=0.9,
    caseless=True,
)


def _flag_value(text: str) -> tuple[int, int]:
    """The password of ` -p'secret'` / ` -psecret`."""
    start = text.find("-p") + 2
    end = len(text)
    if text[start : start + 1] in ("'", '"'):
        start, end = start + 1, end - 1
    return start, end


def _flag_ok(text: str) -> bool:
    start, end = _flag_value(text)
    value = text[start:end]
    return not value.isdigit() and password_ok(value)


MYSQL_PASSWORD_FLAG = Detector(
    "secret.password_assignment",
    (r"[ \t]-p('[^'\s]{4,64}'|\"[^\"\s]{4,64}\"|[^\s'\"\-][^\s'\"]{3,63}\b)",),
    validator=_flag_ok,
    narrow=_flag_value,
    context=("mysql", "mysqldump", "mysqladmin", "mariadb", "mysqlsh"),
    confidence=0.85,
    context_window=80,
)


def _cli_value(text: str) -> tuple[int, int]:
    """The value after ` -a`, ` -P`, ` --password=` or ` --password `, unquoted."""
    head = text.lstrip(" \t")
    offset = len(text) - len(head)
    flag = len(head) - len(head.lstrip("-")) + 1  # "-a", "-P" or "--password"...
    if head.startswith("--"):
        flag = max(head.find("="), head.find(" "), head.find("\t")) + 1
    start = offset + flag
    while start < len(text) and text[start] in " \t":
        start += 1
    end = len(text)
    if text[start : start + 1] in ("'", '"'):
        start, end = start + 1, end - 1
    return start, end


def _cli_ok(text: str) -> bool:
    start, end = _cli_value(text)
    return end - start >= 4 and password_ok(text[start:end])


_FLAG_VALUE = r"('[^'\s]{4,64}'|\"[^\"\s]{4,64}\"|[^\s'\"\-$<{][^\s'\"]{3,63}\b)"

CLI_PASSWORD_FLAG = Detector(
    "secret.password_assignment",
    (r"[ \t]-[aP][ \t]*" + _FLAG_VALUE,),
    validator=_cli_ok,
    narrow=_cli_value,
    # redis-cli -a, sqlcmd/bcp/isql -P: the password flag of these tools only
    context=("redis-cli", "keydb-cli", "sqlcmd", "bcp", "isql", "osql"),
    confidence=0.85,
    context_window=80,
)

LONG_PASSWORD_FLAG = Detector(
    "secret.password_assignment",
    # --password=… / --password … of any command line (not --password-stdin)
    (r"[ \t]--(password|passwd|db-password)(=|[ \t]+)" + _FLAG_VALUE,),
    validator=_cli_ok,
    narrow=_cli_value,
    confidence=0.85,
)

GO_MYSQL_DSN = Detector(
    "secret.url_password",
    # go-sql-driver/mysql's DSN has no scheme: user:password@tcp(host:3306)/db
    # (The host part after it is no secret, and a pattern through it is too large a
    # start-of-match automaton: the credential is `user:password`.)
    (r"\b[A-Za-z0-9_.\-]{1,32}:[^\s@/\"'`]{3,64}@(tcp|tcp6|unix|udp)\(",),
    validator=lambda text: password_ok(text[text.find(":") + 1 : text.rfind("@")]),
    narrow=lambda text: (0, text.rfind("@")),
    confidence=0.9,
)

ORACLE_EZCONNECT = Detector(
    "secret.url_password",
    # sqlplus user/password@//host:1521/service (and rman, expdp, impdp, sqlldr)
    (
        r"\b(sqlplus|rman|expdp|impdp|sqlldr|exp|imp)[ \t]+(-[sSlL][ \t]+)*"
        r"[A-Za-z0-9_$#.\-]{1,64}/[^\s@/\"']{3,128}@(//)?[A-Za-z0-9.\-\[\]]+",
    ),
    validator=lambda text: password_ok(text[text.find("/", text.find(" ")) + 1 : text.rfind("@")]),
    narrow=lambda text: (len(text) - len(text.split()[-1]), len(text)),
    confidence=0.9,
)

DETECTORS = (
    URL_PASSWORD,
    ORACLE_THIN,
    ORACLE_EZCONNECT,
    GO_MYSQL_DSN,
    LIBPQ_KEYWORDS,
    MYSQL_PASSWORD_FLAG,
    CLI_PASSWORD_FLAG,
    LONG_PASSWORD_FLAG,
)
