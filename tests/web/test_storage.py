"""Uploaded files behind one storage interface (issue 19): with ``ATTACHMENTS_DIR`` on a volume
every machine mounts, a photo uploaded through one app instance is served by another."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from civic_app import create_app
from civic_app.cards.models import CardPhoto
from civic_app.extensions import db
from civic_app.storage import LocalStorage
from tests.conftest import test_config as make_config
from tests.factories import login
from tests.factories_cards import Cast, make_item

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_local_storage_keeps_files_in_their_area_and_never_outside(tmp_path, app):
    store = LocalStorage(tmp_path)
    store.save("card_photos", "a.png", PNG)
    assert (tmp_path / "card_photos" / "a.png").read_bytes() == PNG
    assert store.read("card_photos", "../card_photos/a.png") == PNG  # only the last part counts
    store.save("meeting_uploads", "../../escape.txt", b"x")
    assert (tmp_path / "meeting_uploads" / "escape.txt").exists()
    assert not (tmp_path.parent / "escape.txt").exists()
    store.delete("card_photos", "a.png")
    assert not store.exists("card_photos", "a.png")
    with pytest.raises(ValueError, match="unknown storage area"):
        store.folder("elsewhere")


def test_a_photo_uploaded_through_one_instance_is_served_by_another(tmp_path, database_url, session):
    shared = tmp_path / "shared-volume"
    first = create_app(make_config(database_url, ATTACHMENTS_DIR=str(shared)))
    second = create_app(make_config(database_url, ATTACHMENTS_DIR=str(shared)))
    cast = Cast()
    item = make_item(cast)
    db.session.commit()
    uploader = first.test_client()
    login(uploader, cast.budget)
    upload = uploader.post(
        f"/staff/cards/items/{item.id}/photos",
        data={"photo": (io.BytesIO(PNG), "site.png"), "caption": "현장 사진"},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 302
    photo = db.session.scalar(select(CardPhoto))
    assert (shared / "card_photos" / photo.stored_name).read_bytes() == PNG
    reader = second.test_client()
    login(reader, cast.policy)
    served = reader.get(f"/staff/cards/photos/{photo.id}")
    assert served.status_code == 200
    assert served.data == PNG
    assert served.headers["X-Content-Type-Options"] == "nosniff"
