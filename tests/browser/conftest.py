import os
import shutil

import pytest

CHROMIUM = os.environ.get("TILLIT_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        if os.environ.get("TILLIT_REQUIRE_BROWSER") == "1":
            pytest.fail(f"Chromium is required here and not found at {CHROMIUM} (apt install chromium)")
        pytest.skip(f"no Chromium at {CHROMIUM}; install Debian's chromium to run browser tests")
    # Playwright's sync API runs an event loop in this thread; Django's ORM calls from the test
    # body are still synchronous and safe here.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-quic"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(10000)
    yield page
    context.close()


@pytest.fixture
def accessible():
    """Checks the page with axe-core (run in the page through Playwright, as the CSP allows no injected script
    tag): no serious or critical WCAG 2.1 A/AA violation; and at 360 px wide, no sideways scrolling."""
    from pathlib import Path

    import axe_playwright_python

    source = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()

    def check(page, *, phone_width=True):
        page.evaluate(source)
        result = page.evaluate("""() => axe.run(document, {runOnly: {type: "tag",
            values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}, resultTypes: ["violations"]})""")
        bad = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]
               if v["impact"] in ("serious", "critical")]
        assert not bad, f"{page.url}: {bad}"
        if phone_width:
            size = page.viewport_size
            page.set_viewport_size({"width": 360, "height": 740})
            wide = page.evaluate("() => document.documentElement.scrollWidth")
            page.set_viewport_size(size)
            assert wide <= 360, f"{page.url} scrolls sideways at 360 px ({wide} px wide)"

    return check
