#!/usr/bin/env python3
"""Drives Berth's web UI in headless Chromium, as a person would, against a running `berth server --dev`.

Usage: browser_ui.py URL ADMIN_API_KEY SCREENSHOT_DIR LOGIN_LINK

Sets up a Viewer over the API, then through the browser: follows the dev server's one-time login
link, sets the administrator's password on the profile page (the link then no longer works), logs
out and in with it, creates an environment, an account and a target, creates a release and deploys it to the
simulated ECS, watches the task page's log reach "succeeded" without reloading, sees the dashboard
cell change, deploys an unhealthy image and sees "rolled back"; as the Viewer sees no Deploy form and
gets 403 posting it by hand; a form without its CSRF token is refused; a name with a script tag shows
as text. Every wait has a limit and fails the run when it runs out. Screenshots go to SCREENSHOT_DIR.
Exit 0 when everything held; otherwise the failed check and exit 1.
"""

import json
import os
import sys
import time
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

URL, KEY, SHOTS, LINK = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
ADMIN_PASSWORD = "correct horse battery staple"
VIEWER_PASSWORD = "viewer password that is long"
XSS = "<script>alert(1)</script>"


def api(method, path, body=None):
    request = urllib.request.Request(
        URL + path, method=method, data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read().decode()
        return json.loads(text) if text else None


def check(condition, message):
    if not condition:
        raise AssertionError(message)
    print(f"ok: {message}", flush=True)


def shot(browser, name):
    browser.save_screenshot(os.path.join(SHOTS, f"{name}.png"))


def wait(browser, seconds, condition, what):
    try:
        return WebDriverWait(browser, seconds, poll_frequency=0.1).until(condition)
    except TimeoutException:
        shot(browser, f"timeout-{int(time.time())}")
        raise AssertionError(f"waited {seconds} s for {what}; the page is {browser.current_url}")


def log_in(browser, username, password):
    browser.delete_all_cookies()
    browser.get(URL + "/login")
    browser.find_element(By.NAME, "username").send_keys(username)
    browser.find_element(By.NAME, "password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "form[action='/login'] button").click()
    wait(browser, 10, ec.presence_of_element_located((By.CSS_SELECTOR, "form.logout")), f"{username} to be logged in")


def submit(browser, form_selector, fields):
    form = browser.find_element(By.CSS_SELECTOR, form_selector)
    for name, value in fields.items():
        element = form.find_element(By.NAME, name)
        if element.tag_name == "select":
            Select(element).select_by_visible_text(value)
        else:
            element.clear()
            element.send_keys(value)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()


def post_by_hand(browser, path, fields):
    """A form post made by a script of the page (what a person could type in the console)."""
    return browser.execute_async_script(
        """
        const [path, fields, done] = arguments;
        fetch(path, {method: 'POST', credentials: 'same-origin', redirect: 'manual',
                     headers: {'Content-Type': 'application/x-www-form-urlencoded'},
                     body: new URLSearchParams(fields).toString()})
          .then(r => done(r.status)).catch(e => done(String(e)));
        """, path, fields)


def deploy_and_watch(browser, version, image, outcome):
    browser.get(URL + "/spaces/default/projects/demo")
    submit(browser, f"form[action='/spaces/default/projects/demo/releases']", {"version": version, "images": f"web={image}"})
    wait(browser, 10, lambda b: version in b.page_source, f"release {version} on the project page")
    submit(browser, "form#deploy", {"release": version, "environment": "Development"})
    wait(browser, 10, ec.presence_of_element_located((By.ID, "log")), "the task page")
    loaded_lines = len(browser.find_elements(By.CSS_SELECTOR, "#log .line"))
    page_id = browser.execute_script("return window.berthPageMark = Math.random();")
    badge = wait(
        browser, 120,
        lambda b: b.find_element(By.ID, "task-state") if b.find_element(By.ID, "task-state").text in
        ("succeeded", "failed", "rolled back", "timed out", "cancelled") else False,
        f"the deployment of {version} to finish")
    check(badge.text == outcome, f"the task page says '{outcome}' for {version} (it says '{badge.text}')")
    check(browser.execute_script("return window.berthPageMark;") == page_id, "the task page was not reloaded")
    lines = browser.find_elements(By.CSS_SELECTOR, "#log .line")
    check(len(lines) > loaded_lines, f"the log grew live ({loaded_lines} lines at load, {len(lines)} at the end)")
    ending = "completed" if outcome == "succeeded" else "rolled-back"
    wait(browser, 10, lambda b: b.find_elements(By.CSS_SELECTOR, f"figure.chart svg line.ending.{ending}"),
         f"the rollout chart to mark the rollout {ending}")
    revisions = browser.find_elements(By.CSS_SELECTOR, "figure.chart svg polyline.running")
    check(len(revisions) >= (1 if outcome == "succeeded" else 2),
          f"the rollout chart draws the running tasks of {len(revisions)} revision(s)")
    return browser.current_url


def main():
    os.makedirs(SHOTS, exist_ok=True)
    api("POST", "/api/users", {"username": "vera", "displayName": "Vera Viewer"})
    api("PUT", "/api/users/vera/password", {"password": VIEWER_PASSWORD})
    api("POST", "/api/teams", {"name": "viewers"})
    api("POST", "/api/teams/viewers/members", {"user": "vera"})
    api("POST", "/api/teams/viewers/grants", {"role": "Viewer", "space": "default"})

    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900",
                     "--disable-gpu"):
        options.add_argument(argument)
    options.binary_location = "/usr/bin/chromium"
    browser = webdriver.Chrome(service=webdriver.ChromeService(executable_path="/usr/bin/chromedriver"), options=options)
    browser.set_script_timeout(20)
    try:
        # Not logged in: every page sends the browser to the login page.
        browser.get(URL + "/spaces/default")
        check("/login" in browser.current_url, "a page without a session goes to the login page")
        shot(browser, "01-login")
        # The one-time link: logged in once, straight to the profile to set a password.
        browser.get(LINK)
        check(browser.find_element(By.ID, "link-user").text == "administrator", "the link's page says whom it logs in as")
        browser.find_element(By.CSS_SELECTOR, "form[action='/login/link'] button").click()
        wait(browser, 10, ec.presence_of_element_located((By.ID, "password")), "the profile page after the login link")
        submit(browser, "form#password", {"password": ADMIN_PASSWORD, "repeat": ADMIN_PASSWORD})
        wait(browser, 10, lambda b: "Your password is set." in b.page_source, "the password to be set")
        shot(browser, "01-profile")
        browser.find_element(By.CSS_SELECTOR, "form.logout button").click()
        wait(browser, 10, lambda b: "/login" in b.current_url, "the login page after logging out")
        browser.get(LINK)
        wait(browser, 10, lambda b: "not valid" in b.page_source, "the used link to be refused")
        check(not browser.find_elements(By.CSS_SELECTOR, "form[action='/login/link']"), "a used link offers no login")
        check(not browser.find_elements(By.CSS_SELECTOR, "form.logout"), "a login link works only once")
        log_in(browser, "administrator", ADMIN_PASSWORD)
        browser.get(URL + "/spaces/default")
        check("/spaces/default" in browser.current_url, "the administrator logs in with the password they set")

        # Infrastructure: an environment (named like a script), an account, a target.
        browser.get(URL + "/spaces/default/infrastructure")
        submit(browser, "form[action='/spaces/default/environments']", {"name": XSS})
        wait(browser, 10, lambda b: XSS in b.find_element(By.CSS_SELECTOR, "ol.environments").text, "the new environment")
        # The used login link's 401 above is meant; anything else severe is not.
        console = [entry for entry in browser.get_log("browser")
                   if entry.get("level") == "SEVERE" and "/login/link - " not in entry.get("message", "")]
        check(not console, f"no errors in the browser's console (the CSP blocks nothing of ours): {console}")
        check(not browser.find_elements(By.XPATH, "//ol[@class='environments']//script"),
              "a name with a script tag is shown as text, not run")
        submit(browser, "form[action='/spaces/default/environments']", {"name": "Staging"})
        # Reorder: Staging one place up, before the script-named one.
        staging = [item for item in browser.find_elements(By.CSS_SELECTOR, "ol.environments li") if "Staging" in item.text][0]
        staging.find_element(By.CSS_SELECTOR, "button[value=up]").click()
        wait(browser, 10, lambda b: [i.find_element(By.CSS_SELECTOR, ".name").text
                                      for i in b.find_elements(By.CSS_SELECTOR, "ol.environments li")][:3] ==
             ["Development", "Staging", XSS], "Staging to move up")
        submit(browser, "form[action='/spaces/default/accounts']",
               {"name": "staging-keys", "accessKeyId": "AKIAIOSFODNN7EXAMPLE",
                "secretKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "region": "us-east-1"})
        wait(browser, 10, lambda b: "staging-keys" in b.page_source, "the new account")
        check("wJalrXUtnFEMI" not in browser.page_source, "the account's secret is not on the page")
        submit(browser, "form[action='/spaces/default/targets']",
               {"name": "staging-cluster", "environments": "Staging", "roles": "web", "account": "demo-aws",
                "region": "us-east-1", "clusterName": "berth-demo"})
        wait(browser, 10, lambda b: "staging-cluster" in b.page_source, "the new target")
        shot(browser, "02-infrastructure")

        # Release and deploy; the log follows live to the end.
        task_url = deploy_and_watch(browser, "2.0.0", "nginx:1.27", "succeeded")
        shot(browser, "03-task-succeeded")
        browser.get(URL + "/spaces/default")
        wait(browser, 10, lambda b: "2.0.0" in b.find_element(By.ID, "dashboard").text, "the dashboard cell")
        cell = browser.find_element(By.CSS_SELECTOR, "#dashboard td.cell.succeeded")
        check("2.0.0" in cell.text and "succeeded" in cell.text, "the dashboard shows 2.0.0 succeeded in Development")
        # The dashboard follows without a reload: the next deployment changes the open page's cell.
        shot(browser, "04-dashboard")

        deploy_and_watch(browser, "2.0.1", "nginx:unhealthy", "rolled back")
        check("rolled back" in browser.find_element(By.ID, "log").text.lower() or
              "circuit breaker" in browser.find_element(By.ID, "log").text.lower(),
              "the log says the circuit breaker rolled the deployment back")
        shot(browser, "05-task-rolled-back")
        browser.get(URL + "/spaces/default")
        wait(browser, 10, lambda b: "2.0.1" in b.find_element(By.ID, "dashboard").text, "the dashboard's rolled-back cell")
        check(browser.find_elements(By.CSS_SELECTOR, "#dashboard td.cell.rolled-back"),
              "the dashboard shows the rolled-back deployment")
        # The open dashboard follows: a deployment queued elsewhere shows up in it without a reload.
        browser.get(URL + "/spaces/default")
        mark = browser.execute_script("return window.berthPageMark = Math.random();")
        api("POST", "/api/spaces/default/deployments", {"project": "Demo", "release": "2.0.0", "environment": "Staging"})
        wait(browser, 60, lambda b: len(b.find_elements(By.CSS_SELECTOR, "#dashboard td.cell.succeeded")) >= 1 and
             len(b.find_elements(By.CSS_SELECTOR, "#dashboard td.cell:not(.none)")) >= 2,
             "the open dashboard to show the Staging deployment")
        check(browser.execute_script("return window.berthPageMark;") == mark, "the dashboard changed without a reload")
        for name, path in (("06-project", "/spaces/default/projects/demo"), ("07-tasks", "/tasks"),
                           ("08-audit", "/audit"), ("09-api-keys", "/api-keys"), ("11-users", "/users"),
                           ("12-teams", "/teams"), ("13-oidc", "/oidc"),
                           ("14-project-editor", "/spaces/default/projects/demo/edit")):
            browser.get(URL + path)
            check(">nil<" not in browser.page_source and "nil</" not in browser.page_source,
                  f"{path} shows no 'nil' where a value is absent")
            shot(browser, name)
        browser.get(task_url)
        check(browser.find_element(By.ID, "task-state").text == "succeeded", "a finished task's page shows its outcome")

        # CSRF: a form post without the session's token is refused, and nothing is made.
        browser.get(URL + "/spaces/default/infrastructure")
        status = post_by_hand(browser, "/spaces/default/environments", {"name": "Forged"})
        check(status == 403, f"a form post without its CSRF token is refused (got {status})")
        status = post_by_hand(browser, "/spaces/default/environments", {"name": "Forged", "csrf": "not-the-token"})
        check(status == 403, f"a form post with a wrong CSRF token is refused (got {status})")
        browser.get(URL + "/spaces/default/infrastructure")
        check("Forged" not in browser.page_source, "the forged posts made nothing")

        # A Viewer sees no Deploy form, and posting one by hand (with their own valid token) is 403.
        log_in(browser, "vera", VIEWER_PASSWORD)
        browser.get(URL + "/spaces/default/projects/demo")
        check(not browser.find_elements(By.ID, "deploy"), "the Viewer sees no Deploy form")
        check(not browser.find_elements(By.CSS_SELECTOR, "form[action$='/releases']"), "the Viewer sees no release form")
        token = browser.find_element(By.CSS_SELECTOR, "form.logout input[name=csrf]").get_attribute("value")
        status = post_by_hand(browser, "/spaces/default/deployments",
                              {"csrf": token, "project": "Demo", "release": "2.0.0", "environment": "Development"})
        check(status == 403, f"the Viewer's hand-made deploy is refused (got {status})")
        shot(browser, "10-viewer-project")
        console = [entry for entry in browser.get_log("browser")
                   if entry.get("level") == "SEVERE" and "status of 403" not in entry.get("message", "")]
        check(not console, f"no other errors in the browser's console: {console}")
        print("all browser checks held", flush=True)
    finally:
        browser.quit()


if __name__ == "__main__":
    try:
        main()
    except AssertionError as failure:
        print(f"FAILED: {failure}", flush=True)
        sys.exit(1)
