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

Every call goes through OSC's openstacksdk block-storage proxy, with paths
relative to Cinder's project-scoped endpoint; names are resolved to IDs by
the proxy's own ``find_backup``/``find_volume``, as OSC's commands do.
Errors come back as ``osc_lib`` ``CommandError`` subclasses whose text is
Cinder's message and what to do about it: OSC prints that one line. The
request itself is left out; ``--debug`` logs every request and answer.
"""

from urllib import parse

from openstack import exceptions as sdk_exceptions
from osc_lib import exceptions

from cinder_backup_ext_chains import deleter as chains_deleter

CHAINS = '/os-backup-chains'

MISSING = (
    "This cloud's Block Storage API has no os-backup-chains resource: the "
    "cinder-backup-ext API extension is not enabled there. Ask the cloud's "
    "operators to enable it: on every Cinder API node, `pip install "
    "cinder-backup-ext` and, in cinder.conf [DEFAULT], the line "
    "`osapi_volume_extension = cinder_backup_ext.api.loader.load` (next to "
    "`osapi_volume_extension = cinder.api.contrib.standard_extensions`), "
    "then a restart of the API.")

#: What to do after an error, by status code (a 400 says it itself).
ADVICE = {
    403: "Your role does not allow this; ask the cloud's operators.",
    404: 'Check the name or ID: `openstack volume backup list` lists the '
         'backups you can see.',
}
SERVER_ADVICE = ("Try again later; if it persists, give the cloud's "
                 "operators the request ID %s.")


class ApiError(exceptions.CommandError):
    """Cinder answered with an error; ``message`` is Cinder's own text."""

    def __init__(self, status_code, message, advice=None):
        super().__init__(' '.join(filter(None, [message, advice])))
        self.status_code = status_code
        self.message = message


class NotFound(ApiError):
    """The backup or volume is not there (or not visible to this project)."""


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
    code = response.status_code
    advice = ADVICE.get(code)
    if code >= 500:
        message = 'Cinder failed (HTTP %d): %s' % (code, message)
        advice = SERVER_ADVICE % response.headers.get(
            'x-openstack-request-id', '(none given)')
    cls = NotFound if code == 404 else ApiError
    return cls(code, message, advice)


def _quoted(backup_id):
    # A user-typed id must stay one path segment ('../volumes' is not one).
    return parse.quote(backup_id, safe='')


def _find(kind, finder, name_or_id, **kwargs):
    """The one ``kind`` named ``name_or_id`` (a name or an ID), as OSC finds.

    openstacksdk's messages name its classes and URLs; these say what to
    type next.
    """
    listing = 'openstack volume %slist' % ('backup ' if kind == 'backup'
                                           else '')
    try:
        return finder(name_or_id, ignore_missing=False, **kwargs)
    except sdk_exceptions.DuplicateResource:
        raise exceptions.CommandError(
            "More than one %s exists with the name '%s'. Give its ID "
            "(`%s --name %s` lists them)."
            % (kind, name_or_id, listing, name_or_id))
    except sdk_exceptions.NotFoundException:
        raise NotFound(
            404, "No %s with a name or ID of '%s' exists."
            % (kind, name_or_id),
            'Check it: `%s` lists the %ss you can see.' % (listing, kind))
    except sdk_exceptions.HttpException as exc:
        raise ApiError(exc.status_code or 0, exc.details or str(exc),
                       ADVICE.get(exc.status_code))


class ChainsClient(object):
    """Backup chains and backup deletes on one Cinder endpoint.

    ``proxy`` is openstacksdk's block-storage proxy (OSC's, in OSC): it
    has keystoneauth's ``get``/``delete`` signature (``raise_exc``
    included) and the ``find_*`` methods that resolve names.
    """

    def __init__(self, proxy):
        self.adapter = proxy

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
                raise ExtensionMissing(404, MISSING)
            try:
                self._call('get', CHAINS, limit=1)
            except NotFound:
                raise ExtensionMissing(404, MISSING)
            except ApiError:
                pass  # the probe's own error says nothing of the backup
            raise exc

    def find_backup(self, name_or_id):
        """The ID of the one backup with this name or ID."""
        return _find('backup', self.adapter.find_backup, name_or_id).id

    def find_volume(self, name_or_id, all_projects=False):
        """The ID of the one volume with this name or ID."""
        return _find('volume', self.adapter.find_volume, name_or_id,
                     all_projects=all_projects).id

    def backup_names(self, volume_id=None, all_projects=False):
        """Backup ID -> name, from Cinder's backup list (one request a page).

        The chain summaries name their backups by ID only. Names only
        label the rows: a list Cinder refuses leaves them blank, as OSC's
        own ``volume backup list`` does with volume names.
        """
        query = {'volume_id': volume_id} if volume_id else {}
        if all_projects:
            query['all_projects'] = True
        try:
            return {backup.id: backup.name for backup in
                    self.adapter.backups(details=False, **query)}
        except sdk_exceptions.HttpException:
            return {}

    def volume_names(self):
        """Volume ID -> name of the project's volumes; None if refused.

        Only labels: backups outlive their volume, and a volume missing
        here was deleted.
        """
        try:
            return {volume.id: volume.name for volume in
                    self.adapter.volumes(details=True)}
        except sdk_exceptions.HttpException:
            return None

    def list_chains(self, volume_id=None, all_projects=False):
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
                raise ApiError(200, 'Cinder sent a next page link that '
                               'repeats a page already read (%s).'
                               % nexts[0], "Report it to the cloud's "
                               "operators.")
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

    def deleter(self, out, timeout):
        """The shared leaf-first Deleter, on this cloud."""
        def delete(backup_id):
            try:
                self.delete_backup(backup_id)
            except NotFound:
                raise chains_deleter.Gone(backup_id)
            except ApiError as exc:
                raise chains_deleter.Refused(exc.message)
        return chains_deleter.Deleter(delete, self.get_backup,
                                      timeout=timeout, out=out)
