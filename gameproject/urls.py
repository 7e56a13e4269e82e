from django.contrib import admin
from django.urls import path

from games.api import api
from games.views import index

urlpatterns = [
    path("", index, name="index"),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
]
