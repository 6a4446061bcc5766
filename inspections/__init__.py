"""Checklist inspections, findings and rectification orders (事前审查, 事中检查, 事后验收, 限期整改).

The inspections issue builds this package; the lifecycle engine will call into it for its guards.
"""
