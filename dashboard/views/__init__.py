"""The dashboard's pages: each module is a script that ``dashboard/app.py`` routes to
(``views``, not ``pages``: see ``dashboard/app.py``)."""
