"""CloudKitty's API for gunicorn: the configuration file from CLOUDKITTY_CONF.

CloudKitty parses sys.argv as its own; this hands it the file instead.
"""

import os

from cloudkitty.api import app
from cloudkitty import service

service.prepare_service(argv=['cloudkitty-api', '--config-file',
                              os.environ['CLOUDKITTY_CONF']],
                        config_files=[])
application = app.load_app()
