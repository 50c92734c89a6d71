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

"""The engine the commands use: oslo.db's, configured as Cinder's is.

A bare ``sqlalchemy.create_engine(connection)`` would ignore every other
``[database]`` option of cinder.conf: pool sizes, ``connection_recycle_time``,
``mysql_sql_mode``, ``connection_parameters`` (TLS and the like),
``max_retries``. Cinder hands the whole group to oslo.db's enginefacade;
so does this.
"""

import logging
import sys

from oslo_db import options as db_options
from oslo_db.sqlalchemy import enginefacade

RETRY_LOGGER = 'oslo_db.sqlalchemy.engines'


def register_opts(conf):
    """oslo.db's ``[database]`` options, with oslo.db's defaults."""
    db_options.set_defaults(conf)


def log_to_stderr(prog):
    """Keep stderr to the command's own lines, plus oslo.db's retries.

    Without a handler Python prints every library warning on stderr, such
    as the traceback oslo.db logs when it wraps an error, which the command
    then reports in one line itself. Only the "SQL connection failed. N
    attempts left." lines of ``max_retries`` are shown, as progress, so
    that a failure still ends with one line.
    """
    logging.getLogger().addHandler(logging.NullHandler())
    retries = logging.StreamHandler(sys.stderr)
    retries.setFormatter(logging.Formatter(prog + ': warning: %(message)s'))
    retries.addFilter(
        lambda record: record.msg.startswith('SQL connection failed'))
    logging.getLogger(RETRY_LOGGER).addHandler(retries)


def engine(conf):
    """A new engine for ``conf``'s ``[database]``; ValueError without one.

    The caller disposes of it. oslo.db tries the connection on creation,
    ``max_retries`` times, and raises its own DBError subclasses.
    """
    if not conf.database.connection:
        raise ValueError('no [database] connection in the configuration '
                         'files')
    facade = enginefacade.transaction_context()
    facade.configure(**dict(conf.database))
    return facade.writer.get_engine()
