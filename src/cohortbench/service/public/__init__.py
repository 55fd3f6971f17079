"""The typed models of everything that leaves through the API, the SDK, the CLI, the pages and the report.

Only `service.release` builds them. A contributor gets the *Public models, whose every field is
itemized in the channel budget (privacy.channels, docs/privacy.md); the owner gets the *Owner
models with exact numbers, free-text-free errors with frames, and the full scorer output.
`extra="forbid"` keeps a field added by mistake from slipping through unnoticed: it must be
declared here, and the budget test then asks how it is released.

One module per resource (submissions, workspaces); every model is importable from here.
"""

from cohortbench.service.public.submissions import (
    ClassOut,
    ErrorOut,
    ErrorOwner,
    FrameOut,
    IntervalOut,
    RunOwner,
    RunPublic,
    SubmissionList,
    SubmissionOut,
    SubmissionOwner,
    SubmissionPublic,
    SubmissionSummary,
    TransferOut,
)
from cohortbench.service.public.workspaces import (
    CancelOut,
    CohortVersionList,
    CohortVersionOut,
    ColumnSchemaOut,
    EdaOut,
    LeaderboardOut,
    LeaderboardRowOut,
    MemberList,
    MemberOut,
    MeOut,
    SchemaTwinOut,
    WorkspaceCardOut,
    WorkspaceList,
)

__all__ = [
    "CancelOut",
    "ClassOut",
    "CohortVersionList",
    "CohortVersionOut",
    "ColumnSchemaOut",
    "EdaOut",
    "ErrorOut",
    "ErrorOwner",
    "FrameOut",
    "IntervalOut",
    "LeaderboardOut",
    "LeaderboardRowOut",
    "MeOut",
    "MemberList",
    "MemberOut",
    "RunOwner",
    "RunPublic",
    "SchemaTwinOut",
    "SubmissionList",
    "SubmissionOut",
    "SubmissionOwner",
    "SubmissionPublic",
    "SubmissionSummary",
    "TransferOut",
    "WorkspaceCardOut",
    "WorkspaceList",
]
