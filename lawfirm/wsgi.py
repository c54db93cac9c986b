import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lawfirm.settings")
application = get_wsgi_application()
# A server never starts without its secret key: reading an empty one raises
# ImproperlyConfigured here, at boot, instead of on the first request.
settings.SECRET_KEY  # noqa: B018
# Nor without its vault keys: client data could be neither read nor written.
if settings.PRODUCTION:
    from vault.keys import blind_index_key, provider

    provider()
    blind_index_key()
