"""Photos of an item: the site as suggested (staff only) and the milestones' (public)."""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from civic_app.cards.base import roles_of
from civic_app.cards.models import CardItem, CardMilestone, CardPhoto
from civic_app.cards.policy import CARD_ROLES
from civic_app.errors import NotAllowed, ValidationFailed
from civic_app.storage import storage

PHOTO_TYPES: dict[str, tuple[str, tuple[bytes, ...]]] = {
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
}
MAX_PHOTO_BYTES = 5 * 1024 * 1024


def check_photo(filename: str, data: bytes) -> tuple[str, str]:
    """(extension, content type) of an acceptable photo, or ``ValidationFailed``."""
    ext = (filename.rsplit(".", 1)[-1] if "." in filename else "").lower()
    if ext not in PHOTO_TYPES:
        msg = _("사진은 PNG, JPG만 올릴 수 있습니다.")
        raise ValidationFailed(msg, [("photo", msg)])
    if len(data) > MAX_PHOTO_BYTES:
        msg = _("사진은 5MB 이하여야 합니다.")
        raise ValidationFailed(msg, [("photo", msg)])
    content_type, magics = PHOTO_TYPES[ext]
    if not any(data.startswith(m) for m in magics):
        msg = _("파일 내용이 확장자와 맞지 않습니다.")
        raise ValidationFailed(msg, [("photo", msg)])
    return ("jpg" if ext == "jpeg" else ext), content_type


def read_upload(field) -> tuple[str, bytes] | None:
    """(file name, content) of the file a form's file field received, or None; at most one
    byte over the limit is read (``check_photo`` refuses it)."""
    file = field.data
    if file is None or not getattr(file, "filename", ""):
        return None
    return file.filename, file.read(MAX_PHOTO_BYTES + 1)


def photo_folder() -> str:
    """Where card photos are kept: the storage's ``card_photos`` area (outside the static
    folder, served through the views; a volume every machine shares in production)."""
    return storage().folder("card_photos")


def store_photo(
    session: Session,
    item: CardItem,
    *,
    uploaded_by_id: int | None,
    now: dt.datetime,
    filename: str,
    data: bytes,
    upload_dir: str,
    caption: str | None = None,
    milestone: CardMilestone | None = None,
) -> CardPhoto:
    """Keep a checked photo (random file name in ``upload_dir``); callers check the actor."""
    ext, content_type = check_photo(filename, data)
    stored = f"{secrets.token_hex(16)}.{ext}"
    photo = CardPhoto(
        item_id=item.id,
        milestone_id=milestone.id if milestone is not None else None,
        stored_name=stored,
        content_type=content_type,
        caption=(caption or "").strip()[:200] or None,
        uploaded_by_id=uploaded_by_id,
        created_at=now,
    )
    session.add(photo)
    session.flush()
    folder = Path(upload_dir)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / stored).write_bytes(data)
    return photo


def add_photo(
    session: Session,
    item: CardItem,
    *,
    actor,
    now: dt.datetime,
    filename: str,
    data: bytes,
    upload_dir: str,
    caption: str | None = None,
    milestone: CardMilestone | None = None,
) -> CardPhoto:
    """A staff member adds a photo of the item (the site as suggested, or a milestone's)."""
    if not (roles_of(actor) & CARD_ROLES):
        raise NotAllowed(_("사진을 올릴 권한이 없습니다."))
    return store_photo(
        session,
        item,
        uploaded_by_id=getattr(actor, "id", None),
        now=now,
        filename=filename,
        data=data,
        upload_dir=upload_dir,
        caption=caption,
        milestone=milestone,
    )
