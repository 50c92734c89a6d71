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

"""Which members of a backup chain a caller may see: one answer, every view.

A chain can span projects in a database upgraded from a release that
picked an incremental's parent among every backup of the volume. Cinder's
own ``GET /backups/{id}`` shows a caller only the backups of the caller's
project, unless the context sees every project (an admin, or a context
without a project: ``compat.sees_every_project``). The chain views show
exactly those, and never name the others: no id, name, project, status or
size. What the others change for the caller is still said, as numbers:

- ``hidden_dependent_count``: live backups of other projects whose parent
  is this member. They block its delete as any child does (the plugin
  refuses that delete, ``api/backup_guards.py``), so the member is not
  deletable, and neither is any ancestor of it;
- ``parent_hidden``: the member is an incremental of a backup the caller
  cannot see. Its ``parent_id`` is not shown, and it starts a chain of its
  own in the caller's view.

The rows come from ``db/chain_rows.py``, each with its live parent's
project.
"""

from cinder_backup_ext import compat


class Viewer(object):
    """What one request context may see, decided once per request."""

    def __init__(self, sees_all, project_id):
        self.sees_all = sees_all
        self.project_id = project_id

    @classmethod
    def of(cls, context):
        """The viewer Cinder's own backup reads make of ``context``."""
        return cls(compat.sees_every_project(context), context.project_id)

    def sees_row(self, row):
        return self.sees(row['project_id'])

    def sees(self, project_id):
        return self.sees_all or project_id == self.project_id

    @property
    def seen_project(self):
        """The one project this caller sees; None when it sees them all."""
        return None if self.sees_all else self.project_id


def rows_for(viewer, rows):
    """The rows ``viewer`` may see, with what the hidden ones change.

    Each returned row gains ``hidden_dependent_count`` and
    ``parent_hidden``; a row whose parent is hidden keeps ``parent_id``
    for ``chains.py`` (it is still an incremental), and the API leaves it
    out of the body.
    """
    hidden = {}
    for row in rows:
        if not viewer.sees(row['project_id']) and row['parent_id']:
            hidden[row['parent_id']] = hidden.get(row['parent_id'], 0) + 1
    shown = []
    for row in rows:
        if not viewer.sees(row['project_id']):
            continue
        parent_project = row.get('parent_project_id')
        shown.append(dict(
            row, hidden_dependent_count=hidden.get(row['id'], 0),
            parent_hidden=(parent_project is not None
                           and not viewer.sees(parent_project))))
    return shown
