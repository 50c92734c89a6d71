"""Gnocchi's API for gunicorn: the configuration file from GNOCCHI_CONF.

gnocchi-api itself needs uwsgi; this builds the same application
(gnocchi.rest.app.load_app) with gnocchi's own prepare_service.
"""

import os

from gnocchi import opts
from gnocchi.rest import app
from gnocchi import service

opts.set_defaults()
application = app.load_app(service.prepare_service(
    args=[], default_config_files=[os.environ['GNOCCHI_CONF']]))
