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


"""HTTP calls to Cinder: the ``os-backup-chains`` resource and backup DELETE.

Every call goes through one keystoneauth adapter (in OSC, openstacksdk's
block-storage proxy), with paths relative to Cinder's project-scoped
endpoint. Errors come back as ``osc_lib`` ``CommandError`` subclasses
carrying Cinder's own message, so OSC prints one line, not a traceback.
"""

from urllib import parse

from osc_lib import exceptions

CHAINS = '/os-backup-chains'

MISSING = (
    "This cloud's Block Storage API has no os-backup-chains resource "
    "(GET %(url)s answered 404 Not Found): the cinder-backup-ext API "
    "extension is not enabled there. An operator enables it on every Cinder "
    "API node with `pip install cinder-backup-ext` and, in cinder.conf "
    "[DEFAULT], the line `osapi_volume_extension = "
    "cinder_backup_ext.api.loader.load` (next to "
    "`osapi_volume_extension = cinder.api.contrib.standard_extensions`), "
    "then restarts the API.")


class ApiError(exceptions.CommandError):
    """Cinder answered with an error; ``message`` is Cinder's own text."""

    def __init__(self, status_code, message):
        super().__init__(message)
        self.status_code = status_code
        self.message = message


class NotFound(ApiError):
    """The backup is not there (or not visible to this project)."""


class ExtensionMissing(ApiError):
    """The cloud answers, but without the ``os-backup-chains`` resource."""


def _error(response):
    """Cinder's fault text (``{"badRequest": {"message": ...}}``)."""
    message = None
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and len(body) == 1:
        fault = next(iter(body.values()))
        if isinstance(fault, dict):
            message = fault.get('message')
    if not message:
        message = (response.text or '').strip()[:200] or response.reason
    cls = NotFound if response.status_code == 404 else ApiError
    return cls(response.status_code, '%s %s: %s (HTTP %d)' % (
        response.request.method, response.url, message,
        response.status_code))


def _quoted(backup_id):
    # A user-typed id must stay one path segment ('../volumes' is not one).
    return parse.quote(backup_id, safe='')


class ChainsClient(object):
    """Backup chains and backup deletes on one Cinder endpoint.

    ``adapter`` is anything with keystoneauth's ``get``/``delete``
    signature (``raise_exc`` included): openstacksdk's block-storage proxy
    in OSC, a plain ``keystoneauth1.adapter.Adapter`` elsewhere.
    """

    def __init__(self, adapter):
        self.adapter = adapter

    def _call(self, method, path, **params):
        response = getattr(self.adapter, method)(
            path, params=params or None, raise_exc=False,
            headers={'Accept': 'application/json'})
        if response.status_code >= 400:
            raise _error(response)
        return response

    def _get_chains(self, path, **params):
        try:
            return self._call('get', path, **params).json()
        except NotFound as exc:
            # Cinder's router answers 404 for a resource nobody loaded;
            # the extension answers 404 for a backup it cannot see. The
            # collection tells the two apart.
            if path == CHAINS:
                raise ExtensionMissing(404, MISSING % {'url': CHAINS})
            try:
                self._call('get', CHAINS, limit=1)
            except NotFound:
                raise ExtensionMissing(404, MISSING % {'url': CHAINS})
            except ApiError:
                pass  # the probe's own error says nothing of the backup
            raise exc

    def list_chains(self, volume_id=None, all_projects=False, limit=None):
        """Every chain summary, newest root first, following next links.

        Each next link's query (Cinder's marker and filters) is sent to
        our own endpoint, not to the link's host: behind a proxy Cinder
        may write links with an address the client cannot reach.
        """
        params = {}
        if volume_id:
            params['volume_id'] = volume_id
        if all_projects:
            params['all_tenants'] = 1
        if limit:
            params['limit'] = limit
        chains = []
        seen = {tuple(sorted((k, str(v)) for k, v in params.items()))}
        while True:
            body = self._get_chains(CHAINS, **params)
            chains.extend(body.get('backup_chains', []))
            nexts = [link['href'] for link in
                     body.get('backup_chains_links', [])
                     if link.get('rel') == 'next']
            if not nexts:
                return chains
            params = dict(parse.parse_qsl(parse.urlsplit(nexts[0]).query))
            key = tuple(sorted(params.items()))
            if key in seen:
                raise ApiError(200, 'GET %s: the next link repeats a page '
                               'already read (%s)' % (CHAINS, nexts[0]))
            seen.add(key)

    def get_chain(self, backup_id):
        """The chain holding ``backup_id``: members and its delete order."""
        return self._get_chains('%s/%s' % (CHAINS, _quoted(backup_id)))[
            'backup_chain']

    def delete_backup(self, backup_id):
        """Cinder's own ``DELETE /backups/{id}`` (NotFound if gone)."""
        self._call('delete', '/backups/%s' % _quoted(backup_id))

    def get_backup(self, backup_id):
        """Cinder's backup body, or None once Cinder no longer has it."""
        try:
            response = self._call('get', '/backups/%s' % _quoted(backup_id))
        except NotFound:
            return None
        return response.json()['backup']

    def get_volume(self, volume_id):
        """Cinder's volume body (NotFound: no such volume for us)."""
        return self._call('get', '/volumes/%s' % _quoted(volume_id)).json()[
            'volume']
