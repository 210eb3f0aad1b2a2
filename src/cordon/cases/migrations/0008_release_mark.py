"""The day start's release bound (``ReleaseMark``): the release reads the orders with a free day after the last
completed release's day instead of every order ever made. Measured by ``cordon bench contacts``."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0007_responsetask_playbook'),
    ]

    operations = [
        migrations.CreateModel(
            name='ReleaseMark',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField()),
            ],
        ),
    ]
