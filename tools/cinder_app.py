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

"""Cinder's real v3 WSGI app, from its api-paste.ini, on any database.

No server and no other Cinder service: the app Cinder's API service builds
(``api-paste.ini`` as the cinder wheel installs it, under
``<prefix>/etc/cinder``), with ``noauth`` (the token is ``user:project``)
and a fake message transport, serving requests handed to it in process.
Cinder's configuration is global, so this is for a process of its own:

    python -m tools.cinder_app --config-file cinder.conf \\
        --project P --user U --output out.json /backups/detail /backups/ID

writes, for the app with the plugin (and with ``--stock`` for stock Cinder
as well), each path's status and JSON body. The upgrade tests
(``tests/upgrade/``) read an upgraded database through it.
"""

import argparse
import json
import os
import sys
import tempfile

STANDARD_EXTENSIONS = 'cinder.api.contrib.standard_extensions'
PLUGIN_LOADER = 'cinder_backup_ext.api.loader.load'
EXTENSIONS = {
    'stock': [STANDARD_EXTENSIONS],
    'plugin': [STANDARD_EXTENSIONS, PLUGIN_LOADER],
}


def paste_ini():
    return os.path.join(sys.prefix, 'etc', 'cinder', 'api-paste.ini')


def configure(config_files=(), connection=None, state_path=None):
    """Set up Cinder's global configuration for an in-process API.

    ``config_files`` are read as Cinder reads them; ``connection`` (a
    database URL) and ``state_path`` override theirs. The policy is Cinder's
    defaults in code, and nothing is sent on the bus.
    """
    # Cinder's test package monkey-patches eventlet and registers Cinder's
    # versioned objects first (tests/functional/__init__.py imports it).
    import cinder.tests.functional  # noqa: F401
    from oslo_config import cfg
    from oslo_messaging import conffixture

    from cinder.common import config  # noqa: F401 (Cinder's options)
    from cinder import rpc

    argv = []
    for path in config_files:
        argv += ['--config-file', path]
    cfg.CONF(argv, project='cinder', default_config_files=[])
    if connection:
        cfg.CONF.set_override('connection', connection, 'database')
    if state_path:
        cfg.CONF.set_override('state_path', state_path)
    cfg.CONF.set_override('auth_strategy', 'noauth')
    messaging = conffixture.ConfFixture(cfg.CONF)  # registers its options
    messaging.setUp()
    messaging.transport_url = 'fake:/'
    cfg.CONF.set_override('policy_file', '/nonexistent/policy.yaml',
                          'oslo_policy')
    rpc.init(cfg.CONF)


def load_app(extensions):
    """Cinder's ``osapi_volume`` app with these ``osapi_volume_extension``.

    Cinder reads the option when it builds its router, so apps with
    different extensions can be built one after the other and serve side
    by side.
    """
    from oslo_config import cfg
    from paste import deploy
    cfg.CONF.set_override('osapi_volume_extension', list(extensions))
    return deploy.loadapp('config:%s' % paste_ini(), name='osapi_volume')


def get(app, path, user, project, version='3.0'):
    """GET ``/v3/<project><path>``; return (status, JSON body or None)."""
    import webob
    request = webob.Request.blank(
        '/v3/%s%s' % (project, path),
        headers={'X-Auth-Token': '%s:%s' % (user, project),
                 'OpenStack-API-Version': 'volume %s' % version,
                 'Accept': 'application/json'})
    response = request.get_response(app)
    try:
        body = response.json_body
    except ValueError:
        body = None
    return response.status_int, body


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--config-file', action='append', default=[])
    parser.add_argument('--connection', help='overrides [database]')
    parser.add_argument('--project', required=True)
    parser.add_argument('--user', required=True)
    parser.add_argument('--version', default='3.0')
    parser.add_argument('--stock', action='store_true',
                        help='also ask stock Cinder (no plugin)')
    parser.add_argument('--output', required=True,
                        help='where the JSON result goes')
    parser.add_argument('paths', nargs='+')
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix='cbe-wsgi-') as state:
        configure(args.config_file, args.connection, state)
        result = {}
        for name in ('plugin', 'stock') if args.stock else ('plugin',):
            app = load_app(EXTENSIONS[name])
            result[name] = {
                path: dict(zip(('status', 'body'),
                               get(app, path, args.user, args.project,
                                   args.version)))
                for path in args.paths}
    with open(args.output, 'w') as f:
        json.dump(result, f)
    return 0


if __name__ == '__main__':
    sys.exit(main())
