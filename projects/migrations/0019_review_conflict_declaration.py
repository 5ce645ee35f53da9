"""Reviews carry the reviewer's conflict-of-interest declaration. Reviews recorded before
reviewers were asked get "not_asked", a value no reviewer can choose, so the record never
claims a declaration that was not made."""

import django.core.validators
import registry.validators
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('projects', '0018_project_search_text_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='historicalreview',
            name='conflict_declaration',
            field=models.CharField(choices=[('none', 'no conflict of interest'), ('declared', 'conflict of interest declared'), ('not_asked', 'not asked (recorded before declarations)')], default='not_asked', max_length=12, verbose_name='conflict of interest'),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name='historicalreview',
            name='conflict_note',
            field=models.TextField(blank=True, default='', validators=[registry.validators.validate_no_control_characters, django.core.validators.MaxLengthValidator(5000)], verbose_name='conflict of interest note'),
        ),
        migrations.AddField(
            model_name='review',
            name='conflict_declaration',
            field=models.CharField(choices=[('none', 'no conflict of interest'), ('declared', 'conflict of interest declared'), ('not_asked', 'not asked (recorded before declarations)')], default='not_asked', max_length=12, verbose_name='conflict of interest'),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name='review',
            name='conflict_note',
            field=models.TextField(blank=True, default='', validators=[registry.validators.validate_no_control_characters, django.core.validators.MaxLengthValidator(5000)], verbose_name='conflict of interest note'),
        ),
        migrations.AddConstraint(
            model_name='review',
            constraint=models.CheckConstraint(condition=models.Q(('conflict_declaration', 'declared'), ('conflict_note', ''), _negated=True), name='review_declared_conflict_has_note'),
        ),
    ]
