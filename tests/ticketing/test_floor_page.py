"""From the floor in a real browser: a planner prints the machines' QR labels; a technician's
phone opens a label's URL, reports a problem with a photo and gets a progress code; the public
page of that code shows the order's status without signing in."""

from __future__ import annotations

import re
from pathlib import Path

import segno
from browser import playwright_sync
from live_server import serving

from devices import Plant
from ticketing import Role, Status, WorkOrderStore
from ticketing.api import create_app

expect = playwright_sync.expect


def test_a_label_opens_the_machine_page_and_a_report_gets_a_progress_code(
    tmp_path: Path, demo_plant: Plant, browser_page: object, artefacts: Path
) -> None:
    page: playwright_sync.Page = browser_page  # type: ignore[assignment]
    photo = tmp_path / "seal.png"
    segno.make("a photo of the seal").save(str(photo), kind="png", scale=20)
    with (
        WorkOrderStore.sqlite(tmp_path / "orders.db", plant=demo_plant) as store,
        serving(create_app(store)) as url,
    ):
        planner = store.access.create_token("pat", Role.PLANNER).secret
        page.goto(f"{url}/#token={planner}")
        expect(page.locator("#who")).to_contain_text("pat · planner")
        page.locator("a", has_text="Labels").click()
        labels = page.locator(".label")
        expect(labels).to_have_count(len(demo_plant))
        expect(labels.first.locator("svg")).to_have_count(1)
        page.screenshot(path=str(artefacts / "labels.png"), full_page=True)
        label = labels.filter(has_text="P-103")
        machine_url = label.get_attribute("data-url")
        assert machine_url == f"{url}/#/machine/P-103"

        technician = store.access.create_token("bruno", Role.TECHNICIAN).secret
        page.locator("#sign-out").click()
        page.set_viewport_size({"width": 390, "height": 844})  # a phone
        page.goto(f"{url}/#token={technician}")
        expect(page.locator("#who")).to_contain_text("bruno · technician")
        page.goto(machine_url)
        view = page.locator("#machine-view")
        expect(view.locator("h1")).to_contain_text("P-103")
        expect(view.locator("#machine-orders")).to_have_text("None.")
        view.locator("textarea[name=note]").fill("Water dripping from the mechanical seal")
        view.locator("input[name=photo]").set_input_files(str(photo))
        view.get_by_role("button", name="Report").click()
        code = view.locator("#progress-code")
        expect(code).to_have_text(re.compile(r"^[A-HJ-NP-Z2-9]{8}$"))
        page.screenshot(path=str(artefacts / "phone-report.png"), full_page=True)
        progress_code = code.inner_text()
        number = store.floor.progress(progress_code).number
        assert store.orders.get(number).description == "Water dripping from the mechanical seal"
        assert store.floor.photos(number) == [(1, "image/jpeg")]  # resized on the phone

        public = page.context.browser.new_page()  # type: ignore[union-attr]
        public.goto(str(view.locator("#progress-link").get_attribute("href")))
        expect(public.locator("#status")).to_have_text("open")
        assert "P-103" not in public.content()
        store.orders.acknowledge(number, by="bruno")
        public.reload()
        expect(public.locator("#status")).to_have_text(Status.ACKNOWLEDGED.value)
        public.screenshot(path=str(artefacts / "progress.png"), full_page=True)
