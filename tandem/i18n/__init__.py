r"""English and French for the people who read Tandem: gettext catalogs, dates, money.

Why Babel: it is actively maintained and widely used (Sphinx and Flask-Babel
build on it; Jinja2 ships a Babel extractor for templates); it carries the CLDR
data, so dates, time zones and currencies are written the way each locale
writes them ("22 nov. 2026, 10:00", "49,90 €") without tables of our own; and
its catalogs are standard gettext .po files that translators and their tools
already know. The catalogs are compiled in memory at start-up: no compiled file
is committed and there is no build step. English is the source language.

After changing UI strings, refresh the template and the French catalog:
    pybabel extract -F tandem/i18n/babel.cfg --no-location --sort-output \
        --project Tandem --version 0.1.0 -o tandem/i18n/locales/messages.pot tandem
    pybabel update -i tandem/i18n/locales/messages.pot -d tandem/i18n/locales -w 100
then translate the new entries of fr/LC_MESSAGES/messages.po (a test checks none is missing).
"""
