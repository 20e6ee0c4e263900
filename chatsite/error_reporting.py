"""Keep connection secrets off Django's error pages and error e-mails.

``make run`` serves with DEBUG on, and its 500 page lists every upper-case setting, the
request's META (the whole process environment under ``runserver``) and each traceback
frame's local variables. Django's default filter hides names containing KEY, PASS, TOKEN…,
but not ``DATABASE_URL`` / ``DATABASE_DIRECT_URL`` / ``REDIS_URL`` / ``QDRANT_URL`` (whose
value carries the password), nor ``CACHES["default"]["LOCATION"]``, nor a database
driver's ``conn_params`` in a frame. This filter hides those names too, masks the password
part of any ``scheme://user:password@host`` string and any ``password=`` / ``key=`` query
or DSN parameter in a value, and cleanses frame variables the same way — whether DEBUG is
on or off.
"""

import re

from django.views.debug import SafeExceptionReporterFilter

# Userinfo in a URL (``postgres://user:secret@host``) and secret-looking key=value pairs in a
# query string or libpq DSN (``?password=…``, ``api_key=…``).
_USERINFO = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*://)[^/?#@\s]*@")
_SECRET_PARAM = re.compile(
    r"((?:^|[?&;\s])[\w.\-]*(?:pass|key|token|secret|auth)[\w.\-]*=)[^&;\s]*", re.IGNORECASE
)


class ConnectionSecretsFilter(SafeExceptionReporterFilter):
    hidden_settings = re.compile(
        "API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|CREDENTIAL|DSN|LOCATION"
        "|DATABASE_URL|DATABASE_DIRECT_URL|REDIS_URL|QDRANT_URL|BASE_URL",
        flags=re.IGNORECASE,
    )

    def cleanse_setting(self, key, value):
        cleansed = super().cleanse_setting(key, value)
        if isinstance(cleansed, str):
            cleansed = _USERINFO.sub(lambda m: f"{m.group(1)}{self.cleansed_substitute}@", cleansed)
            cleansed = _SECRET_PARAM.sub(lambda m: m.group(1) + self.cleansed_substitute, cleansed)
        return cleansed

    def get_traceback_frame_variables(self, request, tb_frame):
        return [(name, self.cleanse_setting(name, value))
                for name, value in super().get_traceback_frame_variables(request, tb_frame)]
