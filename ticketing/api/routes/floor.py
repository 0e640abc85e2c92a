"""From the floor: printable QR labels per machine (each opens the machine's page on a phone),
a problem reported there with a note and a photo, and the public progress page of its code
(`/p/{code}`: that order's status and expected time, no sign-in, nothing else of the plant)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import html
import re
from datetime import datetime
from typing import Annotated

import segno
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from ticketing.api.deps import AnyRole, StoreDep
from ticketing.api.routes.work_orders import DENIED, Answers
from ticketing.api.schemas import Problem
from ticketing.errors import InvalidRequest, NotFound
from ticketing.lifecycle import Status

router = APIRouter(tags=["from the floor"])
UNKNOWN_CODE: Answers = {404: {"model": Problem, "description": "No report has this code."}}
pages = APIRouter()

EquipmentId = Annotated[str, Path(max_length=200)]
ProgressCode = Annotated[str, Path(min_length=4, max_length=20, pattern=r"^[A-Za-z0-9-]+$")]


PHOTO_URL = re.compile(
    r"^data:image/(?:jpeg|png|webp);base64,"
    r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"
)
"""A photo as the page sends it: a base64 data URL of one of the kinds the store keeps."""


def _data_url(value: str | None) -> str | None:
    if value is not None and not PHOTO_URL.match(value):
        raise ValueError(
            "send the photo as a data URL: data:image/jpeg;base64,... (jpeg, png or webp)"
        )
    return value


class ReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
    photo: Annotated[str | None, AfterValidator(_data_url)] = Field(
        default=None,
        max_length=60_000,
        json_schema_extra={"pattern": PHOTO_URL.pattern},
        description="A data URL (data:image/jpeg;base64,...: jpeg, png or webp); the page resizes "
        "photos to fit.",
    )


class ReportOut(BaseModel):
    number: str
    created: bool
    progress_code: str
    progress_url: str


class ProgressOut(BaseModel):
    code: str
    number: str
    status: Status
    expected_at: datetime | None = Field(description="When the work is expected to be done.")
    updated_at: datetime
    done: bool


class LabelOut(BaseModel):
    equipment_id: str
    name: str
    path: str
    url: str
    svg: str = Field(description="The QR code of `url`, as SVG.")


@router.post(
    "/equipment/{equipment_id}/reports",
    summary="Report a problem at a machine (note and photo); returns a progress code",
    status_code=201,
    responses={404: {"model": Problem, "description": "No such equipment."}, **DENIED},
)
async def report(
    store: StoreDep, principal: AnyRole, equipment_id: EquipmentId, body: ReportIn, request: Request
) -> ReportOut:
    photo, photo_type = _photo(body.photo)
    made = await asyncio.to_thread(
        store.floor.report,
        equipment_id,
        note=body.note,
        by=principal,
        photo=photo,
        photo_type=photo_type,
    )
    return ReportOut(
        number=made.recorded.order.number,
        created=made.recorded.created,
        progress_code=made.code,
        progress_url=str(request.url_for("progress_page", code=made.code)),
    )


@router.get(
    "/progress/{code}",
    summary="The status of the order behind a progress code (open: no token)",
    responses=UNKNOWN_CODE,
)
async def progress(store: StoreDep, code: ProgressCode) -> ProgressOut:
    found = await asyncio.to_thread(store.floor.progress, code)
    return ProgressOut(
        code=found.code,
        number=found.number,
        status=found.status,
        expected_at=found.expected_at,
        updated_at=found.updated_at,
        done=found.done,
    )


@router.get("/labels", summary="QR labels of the machines (to print)", responses=DENIED)
async def labels(
    store: StoreDep,
    principal: AnyRole,
    request: Request,
    under: Annotated[
        str | None, Query(max_length=500, description="Only machines under this ISA-95 path.")
    ] = None,
) -> list[LabelOut]:
    plant = store.plant
    if plant is None:
        raise InvalidRequest("this service was started without a plant; it knows no machines")
    base = str(request.base_url).rstrip("/")
    out = []
    for eq in plant:
        if under and not eq.path.startswith(under.strip("/")):
            continue
        url = f"{base}/#/machine/{eq.id}"
        svg = segno.make(url, error="m").svg_inline(scale=4, border=2)
        out.append(LabelOut(equipment_id=eq.id, name=eq.name, path=eq.path, url=url, svg=svg))
    return out


@pages.get("/p/{code}", include_in_schema=False, name="progress_page")
async def progress_page(store: StoreDep, code: str) -> HTMLResponse:
    try:
        found = await asyncio.to_thread(store.floor.progress, code)
    except NotFound:
        return HTMLResponse(
            _page("Unknown code", "<p>No report has this code. Check it and try again.</p>"), 404
        )
    expected = (
        found.expected_at.strftime("%Y-%m-%d %H:%M UTC") if found.expected_at else "not yet planned"
    )
    state = "done" if found.done else found.status.value.replace("_", " ")
    body = (
        f"<p class='code'>{html.escape(found.code)}</p>"
        f"<p>Work order <b>{html.escape(found.number)}</b> is "
        f"<b id='status'>{html.escape(state)}</b>.</p>"
        f"<p>Expected by <b id='expected'>{html.escape(expected)}</b>.</p>"
        f"<p class='muted'>Updated {_utc(found.updated_at)}. "
        "Reload to see changes.</p>"
    )
    return HTMLResponse(_page("Your report", body))


def _utc(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")


def _photo(data_url: str | None) -> tuple[bytes | None, str | None]:
    if not data_url:
        return None, None
    head, _, data = data_url.partition(",")
    if not head.startswith("data:") or not head.endswith(";base64"):
        raise InvalidRequest("send the photo as a data URL: data:image/jpeg;base64,...")
    try:
        return base64.b64decode(data, validate=True), head[5:-7]
    except (binascii.Error, ValueError) as exc:
        raise InvalidRequest("the photo's base64 does not decode; send it again") from exc


def _page(title: str, body: str) -> str:
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>forewarn · {html.escape(title)}</title><style>"
        "body{font:16px/1.5 system-ui,sans-serif;margin:0;padding:1.5rem;color:#1f2933;"
        "max-width:30rem}.code{font:600 1.4rem ui-monospace,monospace;letter-spacing:.15em}"
        ".muted{color:#6b7280;font-size:.9rem}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )
