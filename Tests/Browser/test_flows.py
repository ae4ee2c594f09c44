"""The main flows of the web app in a real browser (headless Chromium), and the attacks on them."""

import random
import time
import uuid
from datetime import date, timedelta

import pytest
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By

from conftest import csrf_token, post_form, screenshot, sign_in, wait_for_page_change


def click(driver, css):
    element = driver.find_element(By.CSS_SELECTOR, css)
    wait_for_page_change(driver, element.click)


def fill(driver, name, value):
    element = driver.find_element(By.NAME, name)
    element.clear()
    element.send_keys(value)
    return element


def submit(driver, form_css):
    form = driver.find_element(By.CSS_SELECTOR, form_css)
    button = form.find_element(By.CSS_SELECTOR, "button[type=submit]")
    wait_for_page_change(driver, button.click)


def sign_out(driver):
    submit(driver, "form.signout")


def text(driver):
    return driver.find_element(By.TAG_NAME, "main").text


def open_chart(driver, server, last_name):
    driver.get(server + "/app/patients")
    link = driver.find_element(By.XPATH, f"//table//a[starts-with(normalize-space(.), '{last_name},')]")
    wait_for_page_change(driver, link.click)


def test_therapist_books_and_reads_the_double_booking_message(driver, server):
    sign_in(driver, server, "dr.smith@demo.test")
    assert "/app/schedule" in driver.current_url
    driver.get(server + "/app/schedule?view=week")
    screenshot(driver, "schedule-week", full_page=True)
    day = date.today() + timedelta(days=random.randint(20, 300))
    for attempt in range(2):
        driver.get(server + "/app/appointments/new")
        driver.find_element(By.CSS_SELECTOR, "#patientId option:nth-child(2)").click()
        start = driver.find_element(By.NAME, "start")
        driver.execute_script("arguments[0].value = arguments[1]", start, f"{day.isoformat()}T10:00")
        submit(driver, "form.card")
        if attempt == 0:
            assert "/app/appointments/" in driver.current_url, text(driver)
            assert "10:00–10:50" in text(driver)
            screenshot(driver, "appointment")
    message = driver.find_element(By.CSS_SELECTOR, ".flash.error").text
    assert "already have an appointment" in message and "10:00–10:50" in message
    screenshot(driver, "booking-conflict")


def test_soap_note_signed_with_addendum_and_seen_by_the_client(driver, server):
    marker = f"Sleeping better {uuid.uuid4().hex[:8]}"
    sign_in(driver, server, "dr.smith@demo.test")
    open_chart(driver, server, "Doe")
    screenshot(driver, "chart")
    submit(driver, "form.inline-form")  # New note: SOAP is the first type
    fill(driver, "section.subjective", marker)
    fill(driver, "section.assessment", "Improving.")
    fill(driver, "section.plan", "Continue CBT.")
    screenshot(driver, "note-editor")
    submit(driver, "form.card")
    assert "draft" in text(driver)
    # Signing asks for the confirmation first (the box is required; the server checks it too).
    assert driver.find_element(By.ID, "confirm").get_attribute("required") is not None
    driver.find_element(By.ID, "confirm").click()
    submit(driver, "form.confirm")
    assert "signed" in driver.find_element(By.CSS_SELECTOR, ".badge").text
    fill(driver, "text", "Client called to confirm the next session.")
    submit(driver, "form.stack.card")
    assert "Client called to confirm" in text(driver)
    screenshot(driver, "note-signed")
    note_url = driver.current_url
    # A draft for the same client, which the client must never see.
    open_chart(driver, server, "Doe")
    submit(driver, "form.inline-form")
    fill(driver, "section.subjective", "DRAFT-ONLY text")
    submit(driver, "form.card")
    draft_url = driver.current_url
    sign_out(driver)

    sign_in(driver, server, "john.doe@demo.test")
    driver.get(server + "/app/portal/notes")
    screenshot(driver, "portal-notes")
    driver.get(note_url)
    assert marker in text(driver) and "Client called to confirm" in text(driver)
    driver.get(draft_url)
    assert "Not found" in driver.find_element(By.TAG_NAME, "h1").text
    assert "DRAFT-ONLY" not in driver.page_source


def test_admin_invites_a_therapist_who_accepts_and_signs_in(driver, server):
    email = f"new.therapist.{uuid.uuid4().hex[:6]}@demo.test"
    sign_in(driver, server, "admin@demo.test")
    driver.get(server + "/app/staff")
    fill(driver, "displayName", "Dr. Ada New")
    fill(driver, "email", email)
    fill(driver, "licenseNumber", "LIC-42")
    fill(driver, "licenseState", "NY")
    fill(driver, "credentials", "LCSW")
    submit(driver, "form.stack.card")
    link = driver.find_element(By.ID, "invite-link").get_attribute("value")
    assert link.startswith("/app/accept-invite?token=")
    screenshot(driver, "staff-invited")
    sign_out(driver)
    driver.get(server + link)
    fill(driver, "password", "a long new passphrase 1")
    fill(driver, "confirm", "a long new passphrase 1")
    submit(driver, "form.stack")
    assert "password is set" in text(driver)
    sign_in(driver, server, email, password="a long new passphrase 1")
    assert "/app/schedule" in driver.current_url


def test_break_glass_opens_a_colleagues_note_for_an_hour(driver, server):
    sign_in(driver, server, "dr.smith@demo.test")
    open_chart(driver, server, "Doe")
    note_link = driver.find_element(By.XPATH, "//table//tr[.//span[contains(@class,'signed')]]//a").get_attribute("href")
    sign_out(driver)
    sign_in(driver, server, "dr.johnson@demo.test")
    driver.get(note_link)
    assert "not assigned to you" in text(driver)
    fill(driver, "reason", "Covering for Dr. Smith: client in crisis")
    submit(driver, "form.stack")
    assert "Break-glass access granted until" in text(driver)
    screenshot(driver, "break-glass")


def test_logout_ends_the_session_and_back_shows_nothing(driver, server):
    sign_in(driver, server, "dr.smith@demo.test")
    driver.get(server + "/app/patients")
    assert "Doe, John" in text(driver)
    sign_out(driver)
    assert "/app/login" in driver.current_url
    driver.back()
    time.sleep(0.5)
    assert "Doe, John" not in driver.page_source
    driver.get(server + "/app/patients")
    assert "/app/login" in driver.current_url


def test_forms_without_the_sessions_token_change_nothing(driver, server):
    sign_in(driver, server, "dr.smith@demo.test")
    open_chart(driver, server, "Doe")
    patient_id = driver.current_url.rstrip("/").split("/")[-1]
    own = csrf_token(driver)
    cookies = driver.get_cookies()
    fields = {"patientId": patient_id, "type": "progress", "section.narrative": "FORGED-NOTE"}
    status, _, _ = post_form(server, "/app/notes", fields, cookies)
    assert status == 403
    other_browser_token = "x" * len(own)
    status, _, _ = post_form(server, "/app/notes", {**fields, "_csrf": other_browser_token}, cookies)
    assert status == 403
    driver.get(driver.current_url)
    open_chart(driver, server, "Doe")
    assert "FORGED-NOTE" not in driver.page_source
    # The same post with the page's own token works: the refusals above were the token's doing.
    status, _, headers = post_form(server, "/app/notes", {**fields, "_csrf": own}, cookies)
    assert status == 303 and headers.get("Location", "").startswith("/app/notes/")


def test_a_script_named_patient_never_runs(driver, server):
    sign_in(driver, server, "admin@demo.test")
    driver.get(server + "/app/patients/new")
    name = "<img src=x onerror=alert(1)>"
    fill(driver, "firstName", name)
    fill(driver, "lastName", "Tester")
    driver.execute_script("document.getElementById('dateOfBirth').value = '1990-02-03'")
    driver.find_element(By.CSS_SELECTOR, "#assignedTherapistId option:nth-child(2)").click()
    submit(driver, "form.card")
    assert name in driver.find_element(By.TAG_NAME, "h1").text
    driver.get(server + "/app/patients")
    assert name in text(driver)
    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert.text
    assert not driver.find_elements(By.CSS_SELECTOR, "img[src=x]")
    assert name not in driver.title


def test_another_patients_id_shows_the_404_page(driver, server):
    sign_in(driver, server, "dr.johnson@demo.test")
    driver.get(server + "/app/patients")
    bob = driver.find_element(By.XPATH, "//table//a").get_attribute("href")
    sign_out(driver)
    sign_in(driver, server, "dr.smith@demo.test")
    driver.get(bob)
    missing_page = None
    assert driver.find_element(By.TAG_NAME, "h1").text == "Not found"
    foreign = driver.page_source
    driver.get(server + f"/app/patients/{uuid.uuid4()}")
    missing_page = driver.page_source
    assert foreign == missing_page
    screenshot(driver, "not-found")


def test_without_a_session_every_page_lands_on_sign_in(driver, server):
    driver.get(server + "/app/schedule")
    assert "/app/login" in driver.current_url
    screenshot(driver, "login")
    sign_in(driver, server, "dr.smith@demo.test")
    driver.delete_all_cookies()
    driver.get(server + "/app/patients")
    assert "/app/login" in driver.current_url
