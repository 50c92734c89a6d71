# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.

"""The Horizon plugin in headless Chromium, against a real cloud.

Makes a chain full -> inc1 -> inc2 through Cinder's API as the project
member (clouds.yaml's ``cbe-member``), then, in the browser, logs in with
Horizon's own form and checks, each check reported on its own line:

- the Incremental and Has dependents columns of the three backups;
- Delete disabled, with the reason, on full and inc1, enabled on inc2;
- the detail page of inc1: type, parent link, child link, the tree;
- with the flags hidden by Cinder's policy file: the columns say "—";
- deleting inc2 from its row: inc1's Delete comes back by itself (the
  row refreshes), full's reason counts one;
- a batch delete of full alone is refused with the reason; of full and
  inc1, both go, inc1 first.

Screenshots of the table and the detail page go to ``--output``. Ends
with "N passed, N failed"; exit status 1 when any check failed.
"""

import argparse
import json
import os
import sys
import time
import traceback

from cinderclient import client as cinder_client
from keystoneauth1 import loading
from keystoneauth1 import session as ks_session
from selenium.common import exceptions as se_exceptions
from selenium import webdriver
from selenium.webdriver.chrome import service as chrome_service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support import ui
import yaml

DASH = '\u2014'
HIDE_FLAGS = {'cinder_backup_ext:backup:show_flags': 'role:admin'}


class Checks(object):

    def __init__(self, log):
        self.results = []
        self.log = log

    def check(self, name, ok, detail=''):
        self.results.append((name, bool(ok)))
        line = '%s: %s%s' % ('PASS' if ok else 'FAIL', name,
                             (' (%s)' % detail) if detail else '')
        print(line, flush=True)
        self.log.write(line + '\n')
        return ok

    def equal(self, name, actual, expected):
        return self.check(name, actual == expected,
                          'got %r, expected %r' % (actual, expected))

    def summary(self):
        passed = sum(1 for _n, ok in self.results if ok)
        failed = len(self.results) - passed
        print('%d passed, %d failed' % (passed, failed), flush=True)
        return failed


# --- the data: through Cinder's API as the member ---------------------------

def cinder_for(clouds_file, cloud='cbe-member'):
    with open(clouds_file) as f:
        auth = yaml.safe_load(f)['clouds'][cloud]['auth']
    plugin = loading.get_plugin_loader('password').load_from_options(**auth)
    session = ks_session.Session(auth=plugin)
    return cinder_client.Client('3.45', session=session,
                                region_name='RegionOne')


def wait_status(get, wanted, timeout=300):
    deadline = time.monotonic() + timeout
    while True:
        thing = get()
        if thing.status == wanted:
            return thing
        if thing.status.startswith('error') or time.monotonic() > deadline:
            raise RuntimeError('%s is %s, not %s'
                               % (thing.id, thing.status, wanted))
        time.sleep(2)


def make_chain(cinder, run):
    volume = cinder.volumes.create(1, name='cbe-dash-vol-%s' % run)
    wait_status(lambda: cinder.volumes.get(volume.id), 'available')
    backups = {}
    for name, incremental in (('full', False), ('inc1', True),
                              ('inc2', True)):
        backup = cinder.backups.create(
            volume.id, name='cbe-%s-%s' % (name, run),
            incremental=incremental)
        backups[name] = wait_status(lambda: cinder.backups.get(backup.id),
                                    'available')
    return volume, backups


# --- the browser -----------------------------------------------------------

def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = '/usr/bin/chromium'
    for arg in ('--headless=new', '--no-sandbox', '--disable-gpu',
                '--disable-dev-shm-usage', '--window-size=1600,1000',
                '--lang=en-US'):
        options.add_argument(arg)
    # Debian's chromedriver, named: Selenium Manager downloads nothing.
    service = chrome_service.Service(executable_path='/usr/bin/chromedriver')
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(120)
    return driver


class Horizon(object):

    def __init__(self, driver, url):
        self.driver = driver
        self.url = url.rstrip('/')

    def wait(self, timeout=30):
        return ui.WebDriverWait(self.driver, timeout)

    def open(self, path):
        self.driver.get(self.url + path)

    def login(self, username, password):
        self.open('/auth/login/')
        self.wait().until(ec.presence_of_element_located(
            (By.ID, 'id_username'))).send_keys(username)
        self.driver.find_element(By.ID, 'id_password').send_keys(password)
        self.driver.find_element(By.ID, 'loginBtn').click()
        self.wait(60).until(lambda d: '/auth/login' not in d.current_url)

    def backups_page(self):
        self.open('/project/backups/')
        self.wait(60).until(ec.presence_of_element_located(
            (By.ID, 'volume_backups')))

    def row(self, backup_id):
        return self.driver.find_element(
            By.CSS_SELECTOR, 'tr[data-object-id="%s"]' % backup_id)

    def cell(self, backup_id, column):
        return self.row(backup_id).find_element(
            By.CSS_SELECTOR, 'td[data-cbe-column="%s"]' % column).text.strip()

    def delete_button(self, backup_id):
        found = self.driver.find_elements(
            By.CSS_SELECTOR, 'button[value="volume_backups__delete__%s"]'
            % backup_id)
        return found[0] if found else None

    def headers(self):
        return [th.text.strip() for th in self.driver.find_elements(
            By.CSS_SELECTOR, '#volume_backups thead th')]

    def messages(self):
        """The alerts shown; [] while the page is being replaced."""
        try:
            return [el.text for el in self.driver.find_elements(
                By.CSS_SELECTOR, '.messages .alert')]
        except se_exceptions.StaleElementReferenceException:
            return []

    def select(self, backup_id):
        """Tick the row's checkbox (Horizon's themed one: its label)."""
        box = self.row(backup_id).find_element(
            By.CSS_SELECTOR, 'input.table-row-multi-select')
        self.row(backup_id).find_element(
            By.CSS_SELECTOR, '.themable-checkbox label').click()
        self.wait().until(lambda d: box.is_selected())

    def open_row_menu(self, backup_id):
        self.row(backup_id).find_element(
            By.CSS_SELECTOR, '.dropdown-toggle').click()

    def confirm(self):
        """Click the action button of Horizon's confirmation dialog."""
        button = self.wait().until(ec.element_to_be_clickable(
            (By.CSS_SELECTOR, '.modal-footer .btn-danger, '
                              '.modal-footer .btn-primary')))
        button.click()

    def screenshot(self, output, name):
        path = os.path.join(output, name)
        self.driver.save_screenshot(path)
        print('screenshot: %s' % path, flush=True)


def run_checks(args, checks, log):
    run = '%04x' % (int(time.time()) & 0xffff)
    cinder = cinder_for(args.clouds)
    t = time.monotonic()
    _volume, backups = make_chain(cinder, run)
    print('chain full -> inc1 -> inc2 made in %.0fs' % (time.monotonic() - t))
    full, inc1, inc2 = backups['full'], backups['inc1'], backups['inc2']
    with open(args.clouds) as f:
        member = yaml.safe_load(f)['clouds']['cbe-member']['auth']

    driver = browser()
    try:
        hz = Horizon(driver, args.horizon)
        hz.login(member['username'], member['password'])
        checks.check('login as %s with Horizon\'s form' % member['username'],
                     '/auth/login' not in driver.current_url,
                     driver.current_url)

        # -- the table --
        hz.backups_page()
        headers = hz.headers()
        checks.check('columns Incremental and Has dependents in the table',
                     'Incremental' in headers and 'Has dependents' in headers,
                     headers)
        for backup, inc, deps in ((full, 'No', 'Yes'), (inc1, 'Yes', 'Yes'),
                                  (inc2, 'Yes', 'No')):
            checks.equal('%s: Incremental, Has dependents' % backup.name,
                         (hz.cell(backup.id, 'is_incremental'),
                          hz.cell(backup.id, 'has_dependents')), (inc, deps))
        reasons = {
            full.id: '2 incremental backups depend on this one: '
                     'delete them first',
            inc1.id: '1 incremental backup depends on this one: '
                     'delete it first'}
        for backup in (full, inc1):
            button = hz.delete_button(backup.id)
            checks.check('%s: Delete disabled' % backup.name,
                         button is not None and not button.is_enabled())
            checks.equal('%s: the reason' % backup.name,
                         button and button.get_attribute('title'),
                         reasons[backup.id])
        button = hz.delete_button(inc2.id)
        checks.check('%s: Delete enabled' % inc2.name,
                     button is not None and button.is_enabled())
        hz.open_row_menu(full.id)
        shown = driver.find_elements(
            By.CSS_SELECTOR, 'tr[data-object-id="%s"] .cbe-delete-reason'
            % full.id)
        checks.check('%s: the reason shown in the row menu' % full.name,
                     shown and shown[0].is_displayed()
                     and shown[0].text == reasons[full.id],
                     shown and shown[0].text)
        hz.screenshot(args.output, 'dashboard-backups.png')

        # -- the detail page of the middle backup --
        hz.open('/project/backups/%s/' % inc1.id)
        hz.wait(60).until(ec.presence_of_element_located(
            (By.ID, 'cbe-backup-chain')))
        checks.equal('detail of inc1: type',
                     driver.find_element(By.ID, 'cbe-backup-type').text,
                     'Incremental')
        parent = driver.find_elements(By.CSS_SELECTOR,
                                      '#cbe-backup-parent a')
        checks.equal('detail of inc1: parent link',
                     [(a.text, a.get_attribute('href')) for a in parent],
                     [(full.name, '%s/project/backups/%s/'
                       % (hz.url, full.id))])
        children = driver.find_elements(By.CSS_SELECTOR,
                                        '#cbe-backup-children a')
        checks.equal('detail of inc1: children links',
                     [(a.text, a.get_attribute('href')) for a in children],
                     [(inc2.name, '%s/project/backups/%s/'
                       % (hz.url, inc2.id))])
        nodes = driver.find_elements(By.CSS_SELECTOR,
                                     '#cbe-backup-chain li')
        checks.equal('detail of inc1: the tree (id, depth, current)',
                     [(n.get_attribute('data-backup-id'),
                       n.get_attribute('data-depth'),
                       'cbe-current' in (n.get_attribute('class') or ''))
                      for n in nodes],
                     [(full.id, '0', False), (inc1.id, '1', True),
                      (inc2.id, '2', False)])
        button = hz.delete_button(inc1.id)
        checks.check('detail of inc1: Delete disabled in the header',
                     button is not None and not button.is_enabled())
        hz.screenshot(args.output, 'dashboard-backup-detail.png')

        # -- the flags hidden by the policy --
        with open(args.policy_file, 'w') as f:
            json.dump(HIDE_FLAGS, f)
        try:
            time.sleep(1)
            hz.backups_page()
            cells = [(hz.cell(b.id, 'is_incremental'),
                      hz.cell(b.id, 'has_dependents'))
                     for b in (full, inc1, inc2)]
            checks.equal('flags hidden by the policy: the columns say '
                         '\u2014', cells, [(DASH, DASH)] * 3)
            hz.screenshot(args.output, 'dashboard-backups-flags-hidden.png')
        finally:
            with open(args.policy_file, 'w') as f:
                f.write('{}\n')
            time.sleep(1)

        # -- deleting the leaf brings the parent's Delete back --
        hz.backups_page()
        hz.open_row_menu(inc2.id)
        hz.delete_button(inc2.id).click()
        hz.confirm()
        hz.wait(60).until(lambda d: any('Scheduled deletion' in m
                                        for m in hz.messages()))
        t = time.monotonic()
        button = hz.delete_button(inc1.id)
        before = ('disabled after the redirect' if button is not None
                  and not button.is_enabled() else 'enabled at once')

        def inc1_deletable(_driver):
            try:
                button = hz.delete_button(inc1.id)
                return (button is not None and button.is_enabled()
                        and not driver.find_elements(
                            By.CSS_SELECTOR,
                            'tr[data-object-id="%s"]' % inc2.id))
            except se_exceptions.StaleElementReferenceException:
                return False
        try:
            hz.wait(120).until(inc1_deletable)
            live = True
        except se_exceptions.TimeoutException:
            live = False
        checks.check('after deleting inc2: inc1\'s Delete enabled again, '
                     'without reloading the page', live,
                     '%s; %.0fs' % (before, time.monotonic() - t))
        hz.backups_page()
        button = hz.delete_button(inc1.id)
        checks.check('after deleting inc2, reloaded: inc1\'s Delete enabled',
                     button is not None and button.is_enabled())
        checks.equal('after deleting inc2: full\'s reason counts one',
                     hz.delete_button(full.id).get_attribute('title'),
                     '1 incremental backup depends on this one: '
                     'delete it first')
        checks.equal('after deleting inc2: inc1 Has dependents',
                     hz.cell(inc1.id, 'has_dependents'), 'No')

        # -- batch delete --
        hz.select(full.id)
        driver.find_element(By.ID, 'volume_backups__action_delete').click()
        hz.confirm()
        hz.wait(60).until(lambda d: hz.messages())
        text = ' '.join(hz.messages())
        checks.check('batch delete of full alone: refused, with the reason',
                     'Cannot delete %s: 1 incremental backup that depends '
                     'on it is not selected (%s)' % (full.name, inc1.name)
                     in text, text)
        checks.check('batch delete of full alone: full still listed',
                     driver.find_elements(By.CSS_SELECTOR,
                                          'tr[data-object-id="%s"]'
                                          % full.id))
        for backup in (full, inc1):
            hz.select(backup.id)
        refusal = hz.messages()
        driver.find_element(By.ID, 'volume_backups__action_delete').click()
        hz.confirm()
        # The refusal above stays on the page until the POST's answer
        # replaces it.
        hz.wait(180).until(
            lambda d: hz.messages() and hz.messages() != refusal)
        text = ' '.join(hz.messages())
        checks.check('batch delete of full and inc1: both deleted, inc1 '
                     'first', 'Scheduled deletion of Volume Backups: %s, %s'
                     % (inc1.name, full.name) in text, text)
        deadline = time.monotonic() + 120
        left = None
        while time.monotonic() < deadline:
            left = [b.id for b in cinder.backups.list()
                    if b.id in (full.id, inc1.id)]
            if not left:
                break
            time.sleep(2)
        checks.equal('batch delete: both gone from Cinder', left, [])
    finally:
        driver.quit()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--horizon', required=True)
    parser.add_argument('--clouds', required=True)
    parser.add_argument('--policy-file', required=True)
    parser.add_argument('--output', required=True)
    parser.add_argument('--log', default=os.devnull)
    args = parser.parse_args()
    os.makedirs(args.output, exist_ok=True)
    with open(args.log, 'a') as log:
        checks = Checks(log)
        try:
            run_checks(args, checks, log)
        except Exception:
            traceback.print_exc()
            checks.check('the browser test ran to its end', False)
    return 1 if checks.summary() else 0


if __name__ == '__main__':
    sys.exit(main())
