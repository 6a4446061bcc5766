"""Lifecycles and what front ends do with them.

The actions (every multi-step write, ``actions``), the reads front ends share (``reads``, ``board``,
``alerts``), the scheduled jobs (``jobs``), workflow definitions and the engine that applies them,
deadlines kept in step with the data (``deadline_sync``, ``cadences``) and the sweep that raises
their alerts.

Public names are re-exported here, lazily (importing the package loads nothing heavy).
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workflows.actions import (
        add_document as add_document,
    )
    from workflows.actions import (
        advance_project as advance_project,
    )
    from workflows.actions import (
        draw_spot_check as draw_spot_check,
    )
    from workflows.actions import (
        extend_deadline as extend_deadline,
    )
    from workflows.actions import (
        import_register as import_register,
    )
    from workflows.actions import (
        keep_deadlines_in_step as keep_deadlines_in_step,
    )
    from workflows.actions import (
        load_workflow as load_workflow,
    )
    from workflows.actions import (
        record_deadline_done as record_deadline_done,
    )
    from workflows.actions import (
        record_inspection_form as record_inspection_form,
    )
    from workflows.actions import (
        respond_to_order as respond_to_order,
    )
    from workflows.actions import (
        sign_inspection as sign_inspection,
    )
    from workflows.actions import (
        start_programme as start_programme,
    )
    from workflows.actions import (
        verify_order as verify_order,
    )
    from workflows.actions import (
        waive_deadline as waive_deadline,
    )
    from workflows.alerts import (
        AlertRow as AlertRow,
    )
    from workflows.alerts import (
        DeadlineRow as DeadlineRow,
    )
    from workflows.alerts import (
        list_alerts as list_alerts,
    )
    from workflows.alerts import (
        list_deadlines as list_deadlines,
    )
    from workflows.board import (
        Board as Board,
    )
    from workflows.board import (
        ProjectRow as ProjectRow,
    )
    from workflows.board import (
        list_programmes as list_programmes,
    )
    from workflows.board import (
        list_projects as list_projects,
    )
    from workflows.board import (
        programme_board as programme_board,
    )
    from workflows.built_ins import (
        load_builtins as load_builtins,
    )
    from workflows.deadline_sync import (
        sync_deadlines as sync_deadlines,
    )
    from workflows.definition import (
        WorkflowDefinition as WorkflowDefinition,
    )
    from workflows.definition import (
        get_definition as get_definition,
    )
    from workflows.definition import (
        load_definition as load_definition,
    )
    from workflows.engine import (
        TransitionRefused as TransitionRefused,
    )
    from workflows.engine import (
        VersionConflict as VersionConflict,
    )
    from workflows.engine import (
        apply_transition as apply_transition,
    )
    from workflows.engine import (
        available_transitions as available_transitions,
    )
    from workflows.jobs import (
        Job as Job,
    )
    from workflows.jobs import (
        JobResult as JobResult,
    )
    from workflows.jobs import (
        daily_job as daily_job,
    )
    from workflows.jobs import (
        sweep_job as sweep_job,
    )
    from workflows.people import (
        find_person as find_person,
    )
    from workflows.programmes import (
        FundingSourceSpec as FundingSourceSpec,
    )
    from workflows.programmes import (
        find_programme as find_programme,
    )
    from workflows.projects import (
        find_project as find_project,
    )
    from workflows.reads import (
        blank_checklist as blank_checklist,
    )
    from workflows.reads import (
        inspection_detail as inspection_detail,
    )
    from workflows.reads import (
        project_detail as project_detail,
    )
    from workflows.reads import (
        spot_check_draw as spot_check_draw,
    )
    from workflows.reads import (
        workflow_definitions as workflow_definitions,
    )
    from workflows.sweep import (
        sweep as sweep,
    )

_WHERE = {
    "advance_project": "workflows.actions",
    "add_document": "workflows.actions",
    "import_register": "workflows.actions",
    "start_programme": "workflows.actions",
    "load_workflow": "workflows.actions",
    "record_inspection_form": "workflows.actions",
    "sign_inspection": "workflows.actions",
    "respond_to_order": "workflows.actions",
    "verify_order": "workflows.actions",
    "draw_spot_check": "workflows.actions",
    "extend_deadline": "workflows.actions",
    "record_deadline_done": "workflows.actions",
    "waive_deadline": "workflows.actions",
    "keep_deadlines_in_step": "workflows.actions",
    "project_detail": "workflows.reads",
    "inspection_detail": "workflows.reads",
    "blank_checklist": "workflows.reads",
    "workflow_definitions": "workflows.reads",
    "spot_check_draw": "workflows.reads",
    "sweep_job": "workflows.jobs",
    "daily_job": "workflows.jobs",
    "Job": "workflows.jobs",
    "JobResult": "workflows.jobs",
    "list_projects": "workflows.board",
    "list_programmes": "workflows.board",
    "programme_board": "workflows.board",
    "Board": "workflows.board",
    "ProjectRow": "workflows.board",
    "list_alerts": "workflows.alerts",
    "list_deadlines": "workflows.alerts",
    "AlertRow": "workflows.alerts",
    "DeadlineRow": "workflows.alerts",
    "get_definition": "workflows.definition",
    "load_definition": "workflows.definition",
    "WorkflowDefinition": "workflows.definition",
    "apply_transition": "workflows.engine",
    "available_transitions": "workflows.engine",
    "TransitionRefused": "workflows.engine",
    "VersionConflict": "workflows.engine",
    "sync_deadlines": "workflows.deadline_sync",
    "sweep": "workflows.sweep",
    "load_builtins": "workflows.built_ins",
    "find_person": "workflows.people",
    "find_programme": "workflows.programmes",
    "FundingSourceSpec": "workflows.programmes",
    "find_project": "workflows.projects",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value
