import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lawfirm.settings")
application = get_wsgi_application()
# A server never starts without its secret key: reading an empty one raises
# ImproperlyConfigured here, at boot, instead of on the first request.
settings.SECRET_KEY  # noqa: B018
