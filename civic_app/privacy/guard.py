"""The one privacy guard: what may reach a public surface (pages, feeds, API, CSV, Telegram).

Every text written for the public passes through here twice: :func:`require_public` refuses it
when staff save it (a Korean form error naming what to remove), and :func:`mask` masks what is
left when it is rendered (a second line of defence for older rows and citizens' own text).

What it finds:

- phone numbers in the shapes people really type: ``010-1234-5678``, ``+82-10-1234-5678``,
  ``+82 10 1234 5678``, ``82-10-…``, ``(010)1234-5678``, ``010 - 1234 - 5678``, en-dash,
  underscore, slash or dot separators, full-width digits;
- e-mail addresses, also with a full-width ``＠`` and the ``[at]`` / ``(at)`` / ``[dot]`` forms;
- the names of the people involved (the caller passes them: a request's citizen, every
  requester), also split by spaces or dots ("홍 길동"), with 님/씨 and particles after them, and
  a three-syllable name's given name with 님/씨 ("길동 씨");
- the known phone numbers and e-mail addresses of those people in any spacing.

Matching runs on a folded copy of the text of the same length (full-width forms and dashes
folded one character for one character), so masks land on the original characters.

Hangul names match only where they do not sit inside a longer Hangul word on their left, so 이동
(a name) does not block 이동식 or 주민이동; Latin names need word boundaries. Names shorter than
two characters are ignored (they would match everywhere).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

HANGUL = "\uac00-\ud7a3"
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d\u30fc\u2043"
_DASH_MAP = {ord(c): "-" for c in _DASHES}

# Separators inside a phone number: spaces, dashes, dots, underscores, slashes, middle dots,
# optionally surrounded by spaces ("010 - 1234 - 5678").
_SEP = r"(?:[ \t]*[-_./·~][ \t]*|[ \t]+)?"
_AREA = r"(?:1[016789]|2|[3-6][1-5]|70|50[2-8]?)"
PHONE_RE = re.compile(
    r"(?<![\d])"
    r"(?:"
    # international: +82 / 82 / 0082, the trunk 0 optionally kept in parentheses
    r"(?:\+[ \t]*|00)?82" + _SEP + r"(?:\(0\)[ \t]*)?\(?" + _AREA + r"\)?"
    r"|"
    # domestic, optionally in parentheses: (010)1234-5678, (02) 123-4567
    r"\(?0" + _AREA + r"\)?"
    r")" + _SEP + r"\d{3,4}" + _SEP + r"\d{4}"
    r"(?![\d])"
)
_AT = r"(?:[ \t]*@[ \t]*|[ \t]*[\[\(\{<][ \t]*(?:at|AT|At|골뱅이)[ \t]*[\]\)\}>][ \t]*)"
_DOT = r"(?:[ \t]*\.[ \t]*|[ \t]*[\[\(\{<][ \t]*(?:dot|DOT|Dot|점)[ \t]*[\]\)\}>][ \t]*)"
EMAIL_RE = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*"
    + _AT
    + r"[A-Za-z0-9-]+(?:"
    + _DOT
    + r"[A-Za-z0-9-]+)*"
    + _DOT
    + r"[A-Za-z]{2,}(?![A-Za-z0-9])"
)
# What may follow a Hangul name: nothing Hangul, or an honorific/particle and then a break.
_KO_TAIL = (
    r"(?:[ \t]?(?:님|씨|군|양))?(?:께서|께|의|이|가|은|는|을|를|에게|와|과|도|만|이가|이는|이의|이랑|랑)?"
    r"(?![" + HANGUL + r"])"
)
_NAME_SEP = r"[ \t·._\-]{0,2}"
_COMPACT_RE = re.compile(r"[\s·._\-]+")

KIND_LABELS = {"phone": _l("전화번호"), "email": _l("이메일 주소"), "name": _l("이름")}


@dataclass(frozen=True)
class Finding:
    kind: str  # phone | email | name
    text: str  # as written (show it only to whoever wrote it)
    sample: str  # masked, safe for logs and other people
    start: int = 0
    end: int = 0


def fold(text: str) -> str:
    """The text with full-width forms and dash variants replaced one character for one."""
    out = []
    for char in text:
        if ord(char) < 128:
            out.append(char)
            continue
        folded = unicodedata.normalize("NFKC", char)
        out.append(folded if len(folded) == 1 else char)
    return "".join(out).translate(_DASH_MAP)


def mask_name(name: str | None) -> str:
    """홍길동 → 홍*동, 김철 → 김*, 남궁민수 → 남**수; Latin names keep the first letter."""
    if not name:
        return ""
    name = name.strip()
    if len(name) <= 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def _local_digits(phone: str) -> str:
    digits = re.sub(r"\D", "", fold(phone))
    if digits.startswith("0082"):
        digits = digits[2:]
    if digits.startswith("82") and len(digits) >= 10:
        digits = "0" + digits[2:].removeprefix("0")
    return digits


def mask_phone(phone: str | None) -> str:
    """010-1234-5678 (in any shape) → 010-****-5678."""
    if not phone:
        return ""
    digits = _local_digits(phone)
    if len(digits) < 9:
        return "*" * len(digits)
    head = "02" if digits.startswith("02") else digits[:3]
    return f"{head}-****-{digits[-4:]}"


def _email_parts(found: str) -> tuple[str, str]:
    flat = fold(found)
    match = re.search(_AT, flat)
    if match is None:
        return flat, ""
    local, domain = flat[: match.start()], flat[match.end() :]
    domain = re.sub(_DOT, ".", domain)
    return local.strip(), domain.strip()


def mask_email(email: str | None) -> str:
    """hong@example.com (or hong [at] example [dot] com) → h***@example.com."""
    if not email:
        return ""
    local, domain = _email_parts(email)
    if not domain:
        return ""
    return f"{local[:1]}***@{domain}"


def _clean(values: Iterable[str | None], minimum: int) -> list[str]:
    seen = {v.strip() for v in values if v and len(v.strip()) >= minimum}
    return sorted(seen, key=lambda v: (-len(v), v))


def _name_pattern(name: str) -> re.Pattern[str]:
    compact = _COMPACT_RE.sub("", name)
    if re.fullmatch(f"[{HANGUL}]+", compact):
        body = _NAME_SEP.join(re.escape(c) for c in compact)
        alternatives = [body]
        if len(compact) == 3:  # 홍길동: "길동 씨" / "길동님" names him too
            alternatives.append(re.escape(compact[1:]) + r"(?=[ \t]?(?:님|씨))")
        return re.compile(f"(?<![{HANGUL}])(?P<name>{'|'.join(alternatives)}){_KO_TAIL}")
    parts = [re.escape(p) for p in re.split(r"[\s·._\-]+", name.strip()) if p]
    body = r"[\s·._\-]{0,2}".join(parts)
    return re.compile(r"(?<![A-Za-z0-9])(?P<name>" + body + r")(?![A-Za-z0-9])", re.IGNORECASE)


def _phone_pattern(phone: str) -> re.Pattern[str] | None:
    digits = _local_digits(phone)
    if len(digits) < 9:
        return None
    gap = r"[\W_]{0,3}"
    tail = gap.join(digits[1:])
    # 0 + rest, or 82 (with an optional (0)) + rest
    return re.compile(r"(?<!\d)(?:0|\+?" + gap + r"82" + gap + r"(?:\(?0\)?)?)" + gap + tail + r"(?!\d)")


def _email_pattern(email: str) -> re.Pattern[str] | None:
    local, domain = _email_parts(email)
    if not local or not domain:
        return None
    return re.compile(r"(?<![A-Za-z0-9])" + re.escape(local) + r"(?![A-Za-z0-9])", re.IGNORECASE)


def _name_key(name: str) -> str:
    if name.isalpha() and (name.isascii() or (min(name) >= "\uac00" and max(name) <= "\ud7a3")):
        return name.casefold()  # the common case, without the per-character fold
    return _COMPACT_RE.sub("", fold(name)).casefold()


class NameIndex:
    """Known names by their compact form ("홍 길동" → 홍길동). A scan looks the text's own
    substrings up, so it costs the same with ten names or a city's hundreds of thousands; build
    the index once and reuse it (the Telegram bot keeps one for a while)."""

    def __init__(self, names: Iterable[str | None] = ()) -> None:
        self.by_key: dict[str, set[str]] = {}
        self.by_given: dict[str, set[str]] = {}  # 길동 → {홍길동}: "길동 씨" names him too
        by_key, by_given = self.by_key, self.by_given
        for raw in names:
            name = (raw or "").strip()
            key = _name_key(name) if len(name) >= 2 else ""
            if len(key) < 2:
                continue
            if key in by_key:
                by_key[key].add(name)
            else:
                by_key[key] = {name}
            if len(key) == 3 and min(key) >= "\uac00" and max(key) <= "\ud7a3":
                if key[1:] in by_given:
                    by_given[key[1:]].add(name)
                else:
                    by_given[key[1:]] = {name}
        self.lengths = sorted({len(k) for k in self.by_key} | ({2} if self.by_given else set()))

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str) or len(name.strip()) < 2:
            return False
        return name.strip() in self.by_key.get(_name_key(name.strip()), ())

    def __iter__(self):
        return (name for names in self.by_key.values() for name in names)

    def __len__(self) -> int:
        return sum(len(names) for names in self.by_key.values())

    def candidates(self, compact: str) -> set[str]:
        """Names whose compact form (or given name) occurs in ``compact`` (folded, casefolded)."""
        found: set[str] = set()
        for length in self.lengths:
            for start in range(len(compact) - length + 1):
                piece = compact[start : start + length]
                if piece in self.by_key:
                    found |= self.by_key[piece]
                if length == 2 and piece in self.by_given:
                    found |= self.by_given[piece]
        return found


def scan(
    text: str | None,
    names: Iterable[str | None] = (),
    *,
    phones: Iterable[str | None] = (),
    emails: Iterable[str | None] = (),
) -> list[Finding]:
    """Everything in ``text`` that must not reach the public, in reading order.

    ``names``, ``phones`` and ``emails`` are the known personal data of the people involved.
    A known e-mail's local part is a finding on its own ("hong.gildong" without a domain)."""
    if not text:
        return []
    flat = fold(text)
    spans: list[Finding] = []

    def add(kind: str, start: int, end: int, sample: str) -> None:
        if any(f.start < end and start < f.end for f in spans):
            return
        spans.append(Finding(kind, text[start:end], sample, start, end))

    for match in EMAIL_RE.finditer(flat):
        add("email", match.start(), match.end(), mask_email(match.group()))
    for email in _clean(emails, 3):
        pattern = _email_pattern(email)
        for match in pattern.finditer(flat) if pattern else ():
            add("email", match.start(), match.end(), mask_email(email))
    for match in PHONE_RE.finditer(flat):
        add("phone", match.start(), match.end(), mask_phone(match.group()))
    for phone in _clean(phones, 9):
        pattern = _phone_pattern(phone)
        for match in pattern.finditer(flat) if pattern else ():
            add("phone", match.start(), match.end(), mask_phone(phone))
    index = names if isinstance(names, NameIndex) else NameIndex(names)
    compact = _COMPACT_RE.sub("", flat).casefold()
    for name in sorted(index.candidates(compact), key=lambda n: (-len(n), n)):
        for match in _name_pattern(fold(name)).finditer(flat):
            # the honorific and particle stay visible: only the name itself is masked
            add("name", match.start("name"), match.end("name"), mask_name(name))
    return sorted(spans, key=lambda f: f.start)


def mask(
    text: str | None,
    names: Iterable[str | None] = (),
    *,
    phones: Iterable[str | None] = (),
    emails: Iterable[str | None] = (),
) -> str:
    """``text`` with every finding replaced by its mask (홍*동, 010-****-5678, h***@example.com)."""
    if not text:
        return ""
    findings = scan(text, names, phones=phones, emails=emails)
    out, last = [], 0
    for finding in findings:
        out.append(text[last : finding.start])
        out.append(_masked(finding))
        last = finding.end
    out.append(text[last:])
    return "".join(out)


def _masked(finding: Finding) -> str:
    if finding.kind == "name":
        return mask_name(_COMPACT_RE.sub("", finding.text))
    return finding.sample


def describe(findings: list[Finding], *, reveal: bool = False) -> str:
    """'이름: 홍길동, 전화번호: 010-1234-5678' (``reveal``) or the masked samples (logs)."""
    parts = []
    for finding in findings:
        value = finding.text.strip() if reveal else finding.sample
        part = f"{KIND_LABELS[finding.kind]}: {value}"
        if part not in parts:
            parts.append(part)
    return ", ".join(parts)


def public_text_error(findings: list[Finding]) -> str:
    """The Korean form error that names what the writer must remove."""
    return _(
        "공개 글에 개인정보(%(items)s)가 있습니다. 지우고 다시 저장하세요.",
        items=describe(findings, reveal=True),
    )


def require_public(
    fields: dict[str, str | None],
    names: Iterable[str | None] = (),
    *,
    phones: Iterable[str | None] = (),
    emails: Iterable[str | None] = (),
) -> None:
    """Raise ``ValidationFailed`` naming, per form field, the personal data to remove."""
    from civic_app.errors import ValidationFailed

    index = names if isinstance(names, NameIndex) else NameIndex(names)
    phones, emails = list(phones), list(emails)
    errors = []
    for field, text in fields.items():
        findings = scan(text, index, phones=phones, emails=emails)
        if findings:
            errors.append((field, public_text_error(findings)))
    if errors:
        raise ValidationFailed(errors[0][1], errors)


def known_names(session) -> set[str]:
    """Names of every citizen (accounts) and of the people features store without an account
    (통통데이 walk-in requesters), from the registry's personal-name sources."""
    from flask import current_app
    from sqlalchemy import select

    from civic_app.accounts.models import User, UserRole
    from civic_app.accounts.roles import CITIZEN
    from civic_app.registry import get_registry

    names = set(
        session.scalars(
            select(User.name).join(UserRole, UserRole.user_id == User.id).where(UserRole.role == CITIZEN)
        )
    )
    for source in get_registry(current_app).name_sources.values():
        names.update(source(session))
    return {n.strip() for n in names if n and len(n.strip()) >= 2}
