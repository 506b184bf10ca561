"""Translation catalogs, one per feature, so features can be translated independently.

    python tools/i18n.py extract FEATURE   # update civic_app/FEATURE/translations (or `core`)
    python tools/i18n.py compile           # .po → .mo for every catalog (make does this)
    python tools/i18n.py check             # every extracted string has an English translation,
                                           # and no msgid has two different ones across catalogs

Korean is the source language: msgids are Korean, the `en` catalog holds the English.
At run time the catalogs are merged into one (the last one loaded wins), so a Korean string
translated differently in two features would show one feature's English in the other: ``check``
refuses that. A word that truly needs two translations gets a context (``pgettext``).
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
CORE_PACKAGES = (
    "accounts",
    "dongs",
    "workdays",
    "notify",
    "audit",
    "public",
    "api",
    "demo",
    "web",
    "integrity",
)
CORE_TEMPLATES = ("base.html", "macros", "accounts", "dongs", "public", "notify", "errors", "workdays")
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "pgettext": ((1, "c"), 2),
    "lazy_gettext": None,
    "_l": None,
    "N_": None,
    "ko": None,  # stored Korean text (meetings.texts.ko), shown in the reader's language
}
JINJA_OPTIONS = {"extensions": "jinja2.ext.do", "trimmed": "false"}


def features() -> list[str]:
    from civic_app.features import FEATURES

    return [f for f in FEATURES if f not in CORE_PACKAGES and (ROOT / "civic_app" / f).is_dir()]


def sources(feature: str) -> list[tuple[Path, str]]:
    files: list[tuple[Path, str]] = []
    if feature == "core":
        files += [(p, "python") for p in (ROOT / "civic_app").glob("*.py")]
        for pkg in CORE_PACKAGES:
            files += [(p, "python") for p in (ROOT / "civic_app" / pkg).rglob("*.py")]
        for entry in CORE_TEMPLATES:
            path = ROOT / "templates" / entry
            files += [(path, "jinja2")] if path.is_file() else [(p, "jinja2") for p in path.rglob("*.html")]
    else:
        files += [(p, "python") for p in (ROOT / "civic_app" / feature).rglob("*.py")]
        files += [(p, "jinja2") for p in (ROOT / "templates" / feature).rglob("*.html")]
        if feature == "telegram":
            files += [(p, "python") for p in (ROOT / "bots").rglob("*.py")]
            files += [(p, "jinja2") for p in (ROOT / "bots").rglob("*.html")]
    return sorted(files)


def catalog_dir(feature: str) -> Path:
    return ROOT / "translations" if feature == "core" else ROOT / "civic_app" / feature / "translations"


def po_path(feature: str) -> Path:
    return catalog_dir(feature) / "en" / "LC_MESSAGES" / "messages.po"


def extract(feature: str) -> Catalog:
    template = Catalog(project="civic_app", charset="utf-8")
    for path, method in sources(feature):
        options = JINJA_OPTIONS if method == "jinja2" else {}
        for lineno, message, comments, context in extract_from_file(
            method, str(path), keywords=KEYWORDS, options=options
        ):
            template.add(
                message,
                None,
                [(str(path.relative_to(ROOT)), lineno)],
                auto_comments=comments,
                context=context,
            )
    return template


def update(feature: str) -> Path:
    template = extract(feature)
    path = po_path(feature)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        with path.open("rb") as fh:
            catalog = read_po(fh, locale="en")
        catalog.update(template, no_fuzzy_matching=True)
    else:
        catalog = Catalog(locale="en", project="civic_app", charset="utf-8")
        for msg in template:
            if msg.id:
                catalog.add(
                    msg.id, "" if isinstance(msg.id, str) else ("", ""), msg.locations, context=msg.context
                )
    with path.open("wb") as fh:
        write_po(fh, catalog, width=100, omit_header=False, ignore_obsolete=True, sort_output=True)
    return path


def compile_all() -> None:
    for feature in ["core", *features()]:
        path = po_path(feature)
        if not path.exists():
            continue
        with path.open("rb") as fh:
            catalog = read_po(fh, locale="en")
        with path.with_suffix(".mo").open("wb") as fh:
            write_mo(fh, catalog, use_fuzzy=False)


def missing(feature: str) -> list[str]:
    template = extract(feature)
    path = po_path(feature)
    translated: dict = {}
    if path.exists():
        with path.open("rb") as fh:
            catalog = read_po(fh, locale="en")
        for msg in catalog:
            if msg.id and not msg.fuzzy:
                ok = all(msg.string) if isinstance(msg.string, tuple | list) else bool(msg.string)
                if ok:
                    translated[(msg.id if isinstance(msg.id, str) else msg.id[0], msg.context)] = True
    out = []
    for msg in template:
        if not msg.id:
            continue
        key = (msg.id if isinstance(msg.id, str) else msg.id[0], msg.context)
        if key not in translated:
            out.append(f"{key[0]!r}" + (f" (context {key[1]!r})" if key[1] else ""))
    return out


def conflicts() -> list[str]:
    """Each (msgid, context) that two catalogs translate differently, with every translation."""
    seen: dict[tuple[str, str | None], dict[object, list[str]]] = {}
    for feature in ["core", *features()]:
        path = po_path(feature)
        if not path.exists():
            continue
        with path.open("rb") as fh:
            catalog = read_po(fh, locale="en")
        for msg in catalog:
            if not msg.id or msg.fuzzy:
                continue
            string = tuple(msg.string) if isinstance(msg.string, tuple | list) else msg.string
            if not (all(string) if isinstance(string, tuple) else string):
                continue
            msgid = msg.id if isinstance(msg.id, str) else msg.id[0]
            seen.setdefault((msgid, msg.context), {}).setdefault(string, []).append(feature)
    out = []
    for (msgid, context), strings in seen.items():
        if len(strings) > 1:
            where = "; ".join(f"{'/'.join(fs)}: {s!r}" for s, fs in strings.items())
            label = f"{msgid!r}" + (f" (context {context!r})" if context else "")
            out.append(f"{label} is translated differently: {where}")
    return out


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(ROOT))
    if len(argv) >= 2 and argv[0] == "extract":
        for feature in argv[1:]:
            print(update(feature))
        return 0
    if argv == ["compile"]:
        compile_all()
        return 0
    if argv == ["check"]:
        bad = 0
        for feature in ["core", *features()]:
            for msgid in missing(feature):
                print(f"{feature}: untranslated: {msgid}")
                bad += 1
        for line in conflicts():
            print(f"conflict: {line}")
            bad += 1
        return 1 if bad else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
