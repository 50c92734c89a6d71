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

"""Connections of the plugin's own, for the flags' one read per response.

The count runs after Cinder's transaction has ended. On Cinder's engine it
costs three round trips: oslo.db's pre-ping at checkout, the statement, and
the rollback when the connection goes back; on SQLite, oslo.db's NullPool
opens a new connection whose first statement reads the whole schema. That
was most of what the flags added to a backup show (``tools/bench``).

This engine reaches the same database (Cinder's URL, its TLS and driver
parameters, ``wsrep_sync_wait``, oslo.db's error translation) with
connections that make the count one round trip:

* autocommit: there is no transaction to end, so nothing is sent when a
  connection goes back, and every count reads the latest committed rows;
* no pre-ping: a connection that died while idle (server restart, a proxy's
  idle timeout) fails its statement, SQLAlchemy then discards every
  connection of the pool opened before the failure, and the statement runs
  once more on a new connection. A read is safe to repeat.

Connections are opened on demand, and an API process never holds more
than ``[cinder_backup_ext] count_pool_size`` of them (2 by default): a
count holds its connection for one statement, so a count that finds them
all busy waits ``[database] pool_timeout`` at most for one rather than
opening another. Database connections are what a Galera cluster runs out
of first; the load benchmark (``tools/bench/load.py``) reports the peak
held by each server, stock and plugin. With 0, the counts use Cinder's own
engine. An in-memory SQLite database exists only behind Cinder's engine,
so it is always used there.
"""

import os
import threading

from oslo_config import cfg
from oslo_db import exception as db_exc
from oslo_db import options as db_options
from oslo_db.sqlalchemy import exc_filters
from oslo_log import log as logging
import sqlalchemy as sa

from cinder_backup_ext import compat
from cinder_backup_ext import opts

LOG = logging.getLogger(__name__)

_SQLALCHEMY = tuple(int(part) for part in sa.__version__.split('.')[:3]
                    if part.isdigit())
# SQLAlchemy 2.0 rolls back as a connection goes back, autocommit or not;
# 2.0.43 added create_engine(skip_autocommit_rollback=) to skip that.
_SKIPS_AUTOCOMMIT_ROLLBACK = _SQLALCHEMY >= (2, 0, 43)
SENDS_ROLLBACK = (2, 0) <= _SQLALCHEMY < (2, 0, 43)

_lock = threading.Lock()
_state = {'source': None, 'engine': None}


def _after_fork_in_child():
    # A worker forked after a count (a server that forks per request, a
    # preloaded app) must not share its parent's sockets.
    counts = _state['engine']
    if counts is not None and counts is not _state['source']:
        counts.dispose(close=False)


os.register_at_fork(after_in_child=_after_fork_in_child)


def execute(statement, params):
    """All rows of one read-only ``statement``, in one round trip.

    Raises what the database raised (as oslo.db translates it) when the
    statement fails twice, or once for a reason other than a lost
    connection.
    """
    counts = engine()
    try:
        with counts.connect() as conn:
            return conn.execute(statement, params).all()
    except db_exc.DBConnectionError as error:
        if counts is _state['source']:
            raise  # Cinder's engine pings before use: not a stale one.
        LOG.info('A connection kept for the backup flags was lost (%s); '
                 'counting again on a new one.', error)
    with counts.connect() as conn:
        return conn.execute(statement, params).all()


def engine():
    """This process's count engine, following Cinder's engine.

    Cinder's own engine where the counts run on it (see above).
    """
    source = compat.get_engine()
    if _state['source'] is source:
        return _state['engine']
    with _lock:
        if _state['source'] is not source:
            old, old_source = _state['engine'], _state['source']
            _state['engine'] = build(source)
            _state['source'] = source
            if old is not None and old is not old_source:
                old.dispose()
    return _state['engine']


def build(source, conf=cfg.CONF):
    """A count engine on the database behind ``source``, or ``source``."""
    opts.register_opts(conf)
    conf.register_opts(db_options.database_opts, group='database')
    size = conf[opts.GROUP].count_pool_size
    url = source.url
    if not size or (url.get_backend_name() == 'sqlite'
                    and url.database in (None, '', ':memory:')):
        return source
    database = conf.database
    backend = url.get_backend_name()
    kwargs = {
        'isolation_level': 'AUTOCOMMIT',
        'pool_pre_ping': False,
        'pool_reset_on_return': None,
        'pool_recycle': database.connection_recycle_time,
        'pool_size': size,
        'max_overflow': 0,
    }
    if database.pool_timeout is not None:  # else SQLAlchemy's 30 s
        kwargs['pool_timeout'] = database.pool_timeout
    if backend == 'sqlite':
        # A pool that keeps its connections, and with them the schema
        # each one has read (oslo.db gives Cinder's a NullPool).
        kwargs['poolclass'] = sa.pool.QueuePool
        kwargs['connect_args'] = {'check_same_thread': False}
    if backend == 'postgresql':
        kwargs['client_encoding'] = 'utf8'
    if _SKIPS_AUTOCOMMIT_ROLLBACK:
        # Otherwise PyMySQL sends a ROLLBACK as each connection goes back,
        # although autocommit left nothing to roll back.
        kwargs['skip_autocommit_rollback'] = True
    engine = sa.create_engine(url, **kwargs)
    exc_filters.register_engine(engine)
    wsrep_sync_wait = database.mysql_wsrep_sync_wait
    if backend == 'mysql' and wsrep_sync_wait is not None:
        @sa.event.listens_for(engine, 'connect')
        def _sync_wait(dbapi_connection, _record):
            with dbapi_connection.cursor() as cursor:
                cursor.execute('SET SESSION wsrep_sync_wait = %s',
                               (wsrep_sync_wait,))
    return engine
