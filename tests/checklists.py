"""The built-in checklist templates, for tests that need one without a database."""

from inspections.templates import ChecklistTemplate, builtin_templates


def builtin_template(key: str, version: int | None = None) -> ChecklistTemplate:
    """A built-in template: the given version, or the newest one."""
    matches = [
        b.template
        for b in builtin_templates()
        if b.template.key == key and version in (None, b.template.version)
    ]
    assert matches, f"no built-in checklist template {key} version {version}"
    return max(matches, key=lambda template: template.version)
