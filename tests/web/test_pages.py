"""The web client's three pages in headless Chromium against a real `floor serve`.

A chair and delegates each in their own browser context (their own storage and socket):
requesting, the chair's list, granting, the delegate's floor and countdown, yielding, a
point of order jumping the queue, chat to all and private, a chat message that looks like
HTML shown as text, hard mute, and the server killed and restarted under the pages.
Screenshots of every page in English and Arabic go to artifacts/screenshots/.

Debian's Chromium (/usr/bin/chromium) only: browsers are never downloaded.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.e2e.server import Meeting, Server, wait_until

pytestmark = [pytest.mark.browser]

# Debian's Chromium (scripts/install puts it there); a missing browser fails, never skips
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
SLOW = 20_000  # ms: reconnecting after a restart (backoff) may take a few seconds


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    s = Server(tmp_path / "data").start()
    yield s
    s.close()


@dataclass
class Pages:
    """Opens one browser context per person and checks that no page broke or alerted."""

    browser: Browser
    server: Server
    problems: list[str] = field(default_factory=list)
    contexts: list[Any] = field(default_factory=list)

    def open(
        self,
        path: str,
        token: str,
        *,
        lang: str = "en",
        width: int = 1280,
        height: int = 800,
        query: str = "",
    ) -> Page:
        context = self.browser.new_context(
            viewport={"width": width, "height": height}, locale="en-US"
        )
        self.contexts.append(context)
        page = context.new_page()
        page.on("dialog", lambda d: (self.problems.append(f"dialog: {d.message}"), d.dismiss()))
        page.on("pageerror", lambda e: self.problems.append(f"{path}: {e}"))
        separator = "&" if query else ""
        page.goto(f"{self.server.base}/{path}?{query}{separator}lang={lang}#token={token}")
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def pages(browser: Browser, server: Server) -> Iterator[Pages]:
    p = Pages(browser, server)
    yield p
    p.close()
    assert p.problems == []


@dataclass
class Room:
    meeting: Meeting
    chair: dict[str, Any]
    ana: dict[str, Any]
    bo: dict[str, Any]
    display: dict[str, Any]


def room(server: Server, **settings: Any) -> Room:
    meeting = server.api.create_meeting("Committee on Trade — 3rd meeting", **settings)
    return Room(
        meeting,
        chair=meeting.add("Chair Person", "Bureau", role="chair", lang="en"),
        ana=meeting.add("Ana Lima", "Brazil", lang="en"),
        bo=meeting.add("Bo Berg", "Sweden", lang="en", seat="A1"),
        display=meeting.add("Screen", "Secretariat", role="display"),
    )


def request(page: Page, kind: str = "speak") -> None:
    page.locator(f"#request-form input[value={kind}]").check()
    page.locator("#request").click()


def queue_names(page: Page) -> Any:
    return page.locator("#queue .queue-item .q-name")


def test_request_grant_countdown_yield_and_point_of_order(pages: Pages, server: Server) -> None:
    """The core loop: request, the chair's list, a point of order first, grant, yield."""
    r = room(server, default_limit_s=120)
    chair = pages.open("chair", r.chair["token"])
    ana = pages.open("join", r.ana["token"])
    bo = pages.open("join", r.bo["token"])
    display = pages.open("display", r.display["token"])

    expect(ana.locator("#mystatus-text")).to_have_text("You have not asked for the floor.")
    request(ana)
    expect(ana.locator("#mystatus-text")).to_have_text("You are 1st in line · Speech")
    expect(queue_names(chair)).to_have_text(["Ana Lima"])

    request(bo, "point_of_order")
    expect(queue_names(chair)).to_have_text(["Bo Berg", "Ana Lima"])
    expect(chair.locator("#queue .queue-item").first).to_have_class(
        re.compile("kind-point_of_order")
    )
    expect(ana.locator("#mystatus-text")).to_have_text("You are 2nd in line · Speech")
    expect(bo.locator("#mystatus-text")).to_have_text("You are 1st in line · Point of order")
    expect(display.locator("#screen-next li")).to_have_count(2)

    chair.locator("#grant-next").click()
    expect(bo.locator("#mystatus-text")).to_have_text("You have the floor")
    expect(bo.locator("#announce-assertive")).to_have_text("You have the floor")
    expect(bo.locator("#my-countdown")).to_have_text(re.compile(r"^[12]:\d\d$"))
    expect(display.locator("#screen-name")).to_have_text("Bo Berg")
    expect(display.locator("#screen-delegation")).to_have_text("Sweden")
    expect(ana.locator("#now-speaker")).to_have_text("Bo Berg (Sweden) — Point of order")
    expect(ana.locator("#mystatus-text")).to_have_text("You are 1st in line · Speech")

    bo.locator("#yield").click()
    expect(bo.locator("#mystatus-text")).to_have_text("You have not asked for the floor.")
    expect(chair.locator("#speaker-name")).to_have_text("Nobody has the floor")

    chair.locator("body").press("n")  # the shortcut: the next speaker
    expect(ana.locator("#mystatus-text")).to_have_text("You have the floor")
    expect(ana.locator("#my-countdown")).to_have_text(re.compile(r"^(2:00|1:5\d)$"))
    expect(chair.locator("#speaker-name")).to_have_text("Ana Lima")
    expect(chair.locator("#speaker-countdown")).to_have_text(re.compile(r"^(2:00|1:5\d)$"))

    chair.locator("#pause").click()
    expect(ana.locator("#my-paused")).to_be_visible()
    frozen = ana.locator("#my-countdown").inner_text()
    chair.locator("#extend-60").click()
    expect(ana.locator("#my-countdown")).not_to_have_text(frozen)
    expect(ana.locator("#my-countdown")).to_have_text(re.compile(r"^(3:00|2:5\d)$"))

    ana.locator("#yield").click()
    expect(display.locator("#screen-name")).to_have_text("Nobody has the floor")
    expect(chair.locator("#queue-empty")).to_be_visible()


def test_chair_reorders_by_keyboard_and_removes(pages: Pages, server: Server) -> None:
    """Alt+↓ moves a request down the list; Delete removes it; the delegate sees both."""
    r = room(server)
    chair = pages.open("chair", r.chair["token"])
    ana = pages.open("join", r.ana["token"])
    bo = pages.open("join", r.bo["token"])
    request(ana)
    expect(queue_names(chair)).to_have_text(["Ana Lima"])
    request(bo)
    expect(queue_names(chair)).to_have_text(["Ana Lima", "Bo Berg"])

    chair.locator("#queue .queue-item").first.focus()
    chair.keyboard.press("Alt+ArrowDown")
    expect(queue_names(chair)).to_have_text(["Bo Berg", "Ana Lima"])
    expect(ana.locator("#mystatus-text")).to_have_text("You are 2nd in line · Speech")
    expect(bo.locator("#mystatus-text")).to_have_text("You are 1st in line · Speech")

    chair.locator("#queue .queue-item", has_text="Bo Berg").focus()
    chair.keyboard.press("Delete")
    expect(queue_names(chair)).to_have_text(["Ana Lima"])
    expect(bo.locator("#mystatus-text")).to_have_text("You have not asked for the floor.")
    expect(ana.locator("#mystatus-text")).to_have_text("You are 1st in line · Speech")


def test_chat_to_all_private_as_text_and_deletion(pages: Pages, server: Server) -> None:
    """Chat to all and private reach exactly their audience; HTML in chat stays text."""
    r = room(server)
    chair = pages.open("chair", r.chair["token"])
    ana = pages.open("join", r.ana["token"])
    bo = pages.open("join", r.bo["token"])
    display = pages.open("display", r.display["token"])
    evil = "<img src=x onerror=alert(1)>"

    expect(ana.locator("#chat-to option[value=all]")).to_have_count(1)
    ana.locator("#chat-text").fill(evil)
    ana.locator("#chat-text").press("Enter")
    for page in (chair, bo, ana):
        expect(page.locator("#chat-log .chat-text")).to_have_text([evil])
        expect(page.locator("#chat-log img")).to_have_count(0)

    bo.locator("#chat-to").select_option(r.ana["id"])
    bo.locator("#chat-text").fill("A word in private")
    bo.locator("#chat-form button[type=submit]").click()
    expect(ana.locator("#chat-log .chat-text")).to_have_text([evil, "A word in private"])
    expect(ana.locator("#chat-log .chat-message.private .chat-from")).to_have_text(
        "Bo Berg (Sweden)"
    )
    expect(bo.locator("#chat-log .chat-text")).to_have_text([evil, "A word in private"])

    ana.locator("#chat-log .chat-message.private button", has_text="Reply privately").click()
    expect(ana.locator("#chat-to")).to_have_value(r.bo["id"])
    ana.locator("#chat-text").fill("Thank you")
    ana.locator("#chat-text").press("Enter")
    expect(bo.locator("#chat-log .chat-text")).to_have_text(
        [evil, "A word in private", "Thank you"]
    )

    bo.locator("#chat-to").select_option("chair")
    bo.locator("#chat-text").fill("To the chair only")
    bo.locator("#chat-text").press("Enter")
    expect(chair.locator("#chat-log .chat-text")).to_have_text([evil, "To the chair only"])
    expect(ana.locator("#chat-log .chat-text")).to_have_text(
        [evil, "A word in private", "Thank you"]
    )

    chair.locator("#chat-log .chat-message", has_text=evil).get_by_role(
        "button", name="Delete"
    ).click()
    expect(bo.locator("#chat-log .chat-text")).to_have_text(
        ["A word in private", "Thank you", "To the chair only"]
    )
    expect(chair.locator("#chat-log .chat-text")).to_have_text(["To the chair only"])
    expect(display.locator("body")).not_to_contain_text("private")


def test_hard_mute_and_mute_all(pages: Pages, server: Server) -> None:
    """The chair's hard mute shows on the delegate's page and cannot be lifted there."""
    r = room(server)
    chair = pages.open("chair", r.chair["token"])
    bo = pages.open("join", r.bo["token"])
    expect(bo.locator("#mic")).to_have_text("Mute my microphone")
    bo.locator("#mic").click()
    expect(bo.locator("#mic-state")).to_have_text("You have muted your microphone.")
    bo.locator("#mic").click()
    expect(bo.locator("#mic-state")).to_have_text(
        "Your microphone opens when you are given the floor."
    )

    chair.locator("#people-search").fill("Berg")
    row = chair.locator("#people .person", has_text="Bo Berg")
    expect(chair.locator("#people .person")).to_have_count(1)
    row.get_by_role("button", name="Mute Bo Berg (Sweden)").click()
    expect(bo.locator("#mic-state")).to_have_text("The chair has muted your microphone.")
    expect(bo.locator("#mic")).to_be_disabled()
    expect(row.locator(".p-mic")).to_have_text("Muted by the chair")

    row.get_by_role("button", name="Unmute Bo Berg (Sweden)").click()
    expect(bo.locator("#mic")).to_be_enabled()

    chair.locator("#people-search").fill("")
    chair.locator("#mute-all").click()
    expect(chair.locator("#mute-all")).to_have_text("Press again to mute all")
    chair.locator("#mute-all").click()
    expect(bo.locator("#mic-state")).to_have_text("The chair has muted your microphone.")
    chair.locator("#filter-mute").select_option("hard")
    expect(chair.locator("#people .person")).to_have_count(2)  # Ana and Bo, not the chair


def test_pages_reconnect_after_a_server_restart(pages: Pages, server: Server) -> None:
    """Killed and restarted under them, the pages resume, show the same state, and a
    command made while the server was down goes through once it is back."""
    r = room(server)
    chair = pages.open("chair", r.chair["token"])
    ana = pages.open("join", r.ana["token"])
    bo = pages.open("join", r.bo["token"])
    request(ana)
    expect(queue_names(chair)).to_have_text(["Ana Lima"])
    chair.locator("#grant-next").click()
    expect(ana.locator("#mystatus-text")).to_have_text("You have the floor")

    server.kill()
    for page in (chair, ana, bo):
        expect(page.locator("#connection")).to_be_visible()
        expect(page.locator("#connection")).to_contain_text("reconnecting… since")
    request(bo)  # while the server is down: sent after the reconnect

    server.start()
    for page in (chair, ana, bo):
        expect(page.locator("#connection")).to_be_hidden(timeout=SLOW)
    expect(ana.locator("#mystatus-text")).to_have_text("You have the floor")
    expect(chair.locator("#speaker-name")).to_have_text("Ana Lima")
    expect(queue_names(chair)).to_have_text(["Bo Berg"], timeout=SLOW)
    expect(bo.locator("#mystatus-text")).to_have_text("You are 1st in line · Speech")
    assert [q["participant"] for q in r.meeting.state()["state"]["queue"]] == [r.bo["id"]]

    ana.locator("#yield").click()
    chair.locator("#grant-next").click()
    expect(bo.locator("#mystatus-text")).to_have_text("You have the floor")


def test_a_revoked_or_bad_link_says_so(pages: Pages, server: Server) -> None:
    """A bad token is not retried: the page says the link is not valid."""
    room(server)
    page = pages.open("join", "not-a-real-token")
    expect(page.locator("#connection")).to_have_text(re.compile("This link is not valid"))


# --- screenshots ---------------------------------------------------------------------------


def busy_room(server: Server) -> tuple[Room, list[dict[str, Any]]]:
    """A meeting in full swing: a speaker, a point of order and a reply waiting, chat."""
    r = room(server, default_limit_s=180)
    others = [
        r.meeting.add(name, delegation, lang=lang, seat=seat)
        for name, delegation, lang, seat in [
            ("Amina Diallo", "Senegal", "fr", "A2"),
            ("Chen Wei", "China", "zh", None),
            ("Olga Petrova", "Russian Federation", "ru", "A3"),
            ("Omar Haddad", "Egypt", "ar", None),
            ("María González", "Mexico", "es", "A4"),
        ]
    ]
    return r, others


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_screenshots(pages: Pages, server: Server, lang: str) -> None:
    """Every page in a busy meeting, kept as artifacts (and checked for RTL in Arabic)."""
    r, others = busy_room(server)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    chair = pages.open("chair", r.chair["token"], lang=lang)
    ana = pages.open("join", r.ana["token"], lang=lang)
    bo = pages.open("join", r.bo["token"], lang=lang, width=390, height=844)
    delegates = [pages.open("join", o["token"], lang=lang) for o in others[:4]]
    display = pages.open("display", r.display["token"], lang=lang)
    caption = pages.open("display", r.display["token"], lang=lang, query="overlay=1")

    request(delegates[0])
    expect(queue_names(chair)).to_have_count(1)
    chair.locator("#grant-next").click()
    expect(delegates[0].locator("#mystatus-text")).to_have_class(re.compile("mystatus-text"))
    request(ana)
    request(delegates[1], "reply")
    request(delegates[2])
    expect(queue_names(chair)).to_have_count(3)
    request(delegates[3], "point_of_order")
    request(bo)
    expect(queue_names(chair)).to_have_count(5)
    delegates[1].locator("#chat-text").fill("Could the secretariat circulate document L.12?")
    delegates[1].locator("#chat-text").press("Enter")
    ana.locator("#chat-to").select_option("chair")
    ana.locator("#chat-text").fill("We wish to speak after the vote.")
    ana.locator("#chat-text").press("Enter")
    expect(chair.locator("#chat-log .chat-message")).to_have_count(2)
    expect(ana.locator("#chat-log .chat-message")).to_have_count(2)
    expect(bo.locator("#chat-log .chat-message")).to_have_count(1)

    direction = "rtl" if lang == "ar" else "ltr"
    for page in (chair, ana, bo, display, caption):
        expect(page.locator("html")).to_have_attribute("dir", direction)
        expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(display.locator("#screen-name")).to_have_text("Amina Diallo")
    expect(caption.locator("#caption-name")).to_have_text("Amina Diallo")

    chair.screenshot(path=SCREENSHOTS / f"chair-{lang}.png")
    ana.screenshot(path=SCREENSHOTS / f"join-{lang}.png")
    bo.screenshot(path=SCREENSHOTS / f"join-phone-{lang}.png", full_page=True)
    delegates[0].screenshot(path=SCREENSHOTS / f"join-speaking-{lang}.png")
    display.screenshot(path=SCREENSHOTS / f"display-{lang}.png")
    caption.screenshot(path=SCREENSHOTS / f"caption-{lang}.png", omit_background=True)
    chair.locator("#help-open").click()
    expect(chair.locator("#help")).to_be_visible()
    chair.screenshot(path=SCREENSHOTS / f"chair-help-{lang}.png")
    chair.keyboard.press("Escape")
    expect(chair.locator("#help")).to_be_hidden()


# --- scale ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_chair_console_stays_fast_with_2000_participants_and_200_requests(
    pages: Pages, server: Server
) -> None:
    """2,000 participants and a 200-request queue: the participants list is virtualised
    (a few dozen rows in the DOM), and a change to the list shows within a frame or two."""
    r = room(server)
    rows = ["name,delegation,role,attendance,lang"]
    rows += [f"Delegate {i:04d},Delegation {i % 190:03d},delegate,remote,en" for i in range(2000)]
    response = r.meeting.api.http.post(
        f"/api/meetings/{r.meeting.id}/participants/import",
        content="\n".join(rows).encode(),
        headers={"Content-Type": "text/csv"},
    )
    assert response.status_code == 201, response.text
    created = response.json()["created"]
    assert len(created) == 2000

    chair = pages.open("chair", r.chair["token"])
    expect(chair.locator("#people-count")).to_contain_text("of 2003")
    chair.evaluate(
        """async (ids) => {
            const c = window.floorClient;
            await Promise.all(ids.map((participant) => c.command("floor.request", {participant})));
        }""",
        [p["id"] for p in created[:200]],
    )
    expect(chair.locator("#queue .queue-item")).to_have_count(200)
    assert chair.locator("#people .person").count() < 60

    # the time from a command to the list showing its event, measured in the page
    elapsed = chair.evaluate(
        """async () => {
            const c = window.floorClient;
            const last = c.state.queue[199];
            const start = performance.now();
            await c.command("floor.move", {request: last.id, position: 0});
            await new Promise((resolve) => {
                const check = () => {
                    const first = document.querySelector("#queue .queue-item");
                    if (first && first.dataset.id === last.id) resolve();
                    else requestAnimationFrame(check);
                };
                check();
            });
            return performance.now() - start;
        }"""
    )
    print(f"200-request queue, 2,003 participants: a move shows {elapsed:.0f} ms after sending")
    assert elapsed < 1000, f"a move took {elapsed:.0f} ms to show"

    chair.locator("#people-search").fill("Delegate 1999")
    expect(chair.locator("#people .person .p-name")).to_have_text(["Delegate 1999"])
    chair.locator("#people-search").fill("")
    chair.locator("#people-viewport").evaluate("(v) => { v.scrollTop = v.scrollHeight; }")
    expect(chair.locator("#people .person .p-name").last).to_have_text("Delegate 1999")
    assert chair.locator("#people .person").count() < 60


def test_language_is_switchable_and_remembered(pages: Pages, server: Server) -> None:
    """The participant's language first; the switcher changes it, and a reload keeps it."""
    r = room(server)
    amina = r.meeting.add("Amina Diallo", "Senegal", lang="fr")
    page = pages.open("join", amina["token"], lang="")
    expect(page.locator("#request")).to_have_text("Demander la parole")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    page.locator("#lang-select").select_option("ar")
    expect(page.locator("#request")).to_have_text("طلب الكلمة")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    page.reload()
    expect(page.locator("#request")).to_have_text("طلب الكلمة")
    page.locator("#lang-select").select_option("zh")
    expect(page.locator("#request")).to_have_text("请求发言")
    expect(page.locator("html")).to_have_attribute("dir", "ltr")


def test_observers_request_only_when_the_meeting_allows(pages: Pages, server: Server) -> None:
    """An observer sees the request button only while observers may speak."""
    r = room(server)
    ngo = r.meeting.add("Observer", "An NGO", role="observer")
    chair = pages.open("chair", r.chair["token"])
    page = pages.open("join", ngo["token"])
    expect(page.locator("#observer-note")).to_be_visible()
    expect(page.locator("#request")).to_be_hidden()
    chair.evaluate(
        "() => window.floorClient.command('settings.update', {observers_may_speak: true})"
    )
    expect(page.locator("#request")).to_be_visible()
    request(page)
    expect(queue_names(chair)).to_have_text(["Observer"])


def test_chair_changes_settings_and_assigns_seats(pages: Pages, server: Server) -> None:
    """The meeting settings' checkboxes and the participants' seat editor reach the server."""
    r = room(server)
    chair = pages.open("chair", r.chair["token"])
    settings = r.meeting.state()["state"]["meeting"]["settings"]
    assert settings["cut_at_limit"] is False
    assert settings["one_request_per_delegation"] is False

    chair.locator("#meeting-settings summary").click()
    cut = chair.get_by_label("Cut the microphone when time runs out")
    one = chair.get_by_label("One request per delegation")
    expect(cut).not_to_be_checked()
    cut.check()
    one.press("Space")  # the keyboard works too
    expect(one).to_be_checked()
    wait_until(
        lambda: r.meeting.state()["state"]["meeting"]["settings"]["one_request_per_delegation"]
    )
    settings = r.meeting.state()["state"]["meeting"]["settings"]
    assert settings["cut_at_limit"] is True
    assert settings["observers_may_speak"] is False
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    chair.screenshot(path=SCREENSHOTS / "chair-settings-en.png")

    ana = chair.locator("#people .person", has_text="Ana Lima")
    ana.get_by_role("button", name="Give Ana Lima (Brazil) a seat").click()
    field = ana.get_by_role("textbox", name="Seat for Ana Lima (Brazil)")
    expect(field).to_be_focused()
    field.fill("B7")
    field.press("Enter")
    expect(ana.get_by_role("button", name=re.compile(r"\(now B7\)$"))).to_be_focused()
    assert r.meeting.state()["state"]["seats"].get("B7") == r.ana["id"]

    bo = chair.locator("#people .person", has_text="Bo Berg")
    bo.get_by_role("button", name=re.compile(r"seat of Bo Berg \(Sweden\) \(now A1\)")).click()
    field = bo.get_by_role("textbox", name="Seat for Bo Berg (Sweden)")
    expect(field).to_have_value("A1")
    field.fill("")
    field.press("Enter")
    expect(bo.locator(".p-meta")).to_have_text("On site")
    seats = r.meeting.state()["state"]["seats"]
    assert "A1" not in seats
    assert seats == {"B7": r.ana["id"]}
