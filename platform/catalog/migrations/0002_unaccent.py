# Accent-insensitive search for Vietnamese ("dang ky" finds "đăng ký").
from django.contrib.postgres.operations import UnaccentExtension
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]

    operations = [UnaccentExtension()]
