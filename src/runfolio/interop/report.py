"""What an import or export did, counted, with the problems it met."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from runfolio.interop.store_writer import RunMerge


@dataclass
class TransferReport:
    """Counts of one import or export, and what was left out and why.

    ``runs_present`` counts runs that were already there and needed nothing;
    ``runs_updated`` those that were there and got something new (rows, params,
    tags, files, an end).
    """

    experiments_created: int = 0
    experiments_present: int = 0
    runs_created: int = 0
    runs_updated: int = 0
    runs_present: int = 0
    metric_values: int = 0
    params: int = 0
    artifacts: int = 0
    model_versions: int = 0
    model_versions_present: int = 0
    aliases: int = 0
    problems: list[str] = field(default_factory=list)

    def count_run(self, merge: RunMerge) -> None:
        """Add what one finished run merge wrote (rows, params, files) to the counts."""
        self.problems.extend(merge.problems)
        self.metric_values += merge.rows_written
        self.params += merge.params_written
        self.artifacts += merge.files_written
        if merge.created:
            self.runs_created += 1
        elif merge.changed:
            self.runs_updated += 1
        else:
            self.runs_present += 1

    def summary(self, verb: str, where: str) -> str:
        """One paragraph for the command line: ``Imported ... from URI.``"""
        experiments = self.experiments_created + self.experiments_present
        runs = self.runs_created + self.runs_updated + self.runs_present
        lines = [
            f"{verb} {where}:",
            f"  experiments:   {experiments:,} ({self.experiments_created:,} new)",
            f"  runs:          {runs:,} ({self.runs_created:,} new, {self.runs_updated:,} "
            f"updated, {self.runs_present:,} skipped as already present)",
            f"  metric values: {self.metric_values:,}",
            f"  params:        {self.params:,}",
            f"  artifacts:     {self.artifacts:,} files",
            f"  models:        {self.model_versions:,} versions ({self.model_versions_present:,} "
            f"already present), {self.aliases:,} aliases set",
        ]
        if self.problems:
            lines.append(f"  left out:      {len(self.problems):,} (see the warnings)")
        return "\n".join(lines) + "\n"
