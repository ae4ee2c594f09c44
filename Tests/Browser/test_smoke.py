"""Smoke test: the server is up and the sign-in page is usable."""

import urllib.request

from selenium.webdriver.common.by import By


def test_health_answers(server):
    with urllib.request.urlopen(server + "/health", timeout=10) as response:
        assert response.status == 200


def test_sign_in_page_has_labelled_fields(driver, server):
    driver.get(server + "/app/login")
    assert driver.find_element(By.TAG_NAME, "h1").text.strip(), "the sign-in page has a heading"
    for name in ("tenant", "email", "password"):
        field = driver.find_element(By.NAME, name)
        # input.labels covers both <label for=id> and a <label> wrapping the input.
        labels = driver.execute_script(
            "return Array.from(arguments[0].labels || []).map(l => l.textContent.trim())", field)
        assert any(labels), f"input {name} has a visible, non-empty <label>"
    assert driver.find_element(By.NAME, "password").get_attribute("type") == "password"
