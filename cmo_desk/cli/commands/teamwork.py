"""merge, bundle, conflicts, resolve, duplicates, agreement, assign, submit: working as a team."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from cmo_desk.cli.common import add_project_arg, open_session
from cmo_desk.cli.output import print_json
from cmo_desk.domain.errors import ValidationError
from cmo_desk.domain.i18n import current_language, fit_columns, tr, trn
from cmo_desk.services import agreement as agreement_service
from cmo_desk.services import coding, desk_rules
from cmo_desk.services import duplicates as duplicate_service
from cmo_desk.services import merging


def register(sub: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    p = sub.add_parser("merge", parents=[parent],
                       help="merge other coders' copies (or bundles) into a project")
    add_project_arg(p)
    p.add_argument("others", metavar="OTHER", type=Path, nargs="+",
                   help="copies of the project (*.cmo) or bundles (*.cmobundle)")
    p.add_argument("--dry-run", action="store_true", help="only say what would arrive")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_merge)

    p = sub.add_parser("bundle", parents=[parent],
                       help="write a small file with the changes but no document bytes")
    add_project_arg(p)
    p.add_argument("-o", "--output", type=Path, required=True, metavar="FILE")
    p.add_argument("--for", dest="theirs", type=Path, metavar="THEIRS",
                   help="only what THEIRS lacks (the receiver's project, or the last file you "
                        "received from them), compressed, with the document files they lack")
    p.set_defaults(func=cmd_bundle)

    p = sub.add_parser("repair", parents=[parent],
                       help="rebuild the visible records from the change log (loses nothing)")
    add_project_arg(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_repair)

    p = sub.add_parser("conflicts", parents=[parent], help="list fields that coders changed "
                       "at the same time")
    add_project_arg(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_conflicts)

    p = sub.add_parser("resolve", parents=[parent], help="settle a conflict with one value")
    add_project_arg(p)
    p.add_argument("--entity", required=True, metavar="TYPE:ID",
                   help="the record, as listed by 'cmo-desk conflicts'")
    p.add_argument("--field", help="the field in conflict")
    how = p.add_mutually_exclusive_group(required=True)
    how.add_argument("--value", metavar="JSON_OR_TEXT", help="the value to keep")
    how.add_argument("--pick", type=int, metavar="N", help="keep the N-th listed value")
    how.add_argument("--keep-deleted", action="store_true", help="keep the record deleted")
    how.add_argument("--restore", action="store_true", help="keep the record")
    p.set_defaults(func=cmd_resolve)

    p = sub.add_parser("duplicates", parents=[parent],
                       help="studies and codes added twice by different coders")
    add_project_arg(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--accept", type=int, metavar="N", help="merge the N-th proposal")
    which.add_argument("--accept-all", action="store_true", help="merge every proposal")
    which.add_argument("--reject", type=int, metavar="N",
                       help="record that the N-th proposal is two different records")
    p.set_defaults(func=cmd_duplicates)

    p = sub.add_parser("agreement", parents=[parent], help="agreement between coders")
    add_project_arg(p)
    p.add_argument("--coders", metavar="A,B", help="coders to compare (names, initials or ids)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("-o", "--output", type=Path, metavar="OUT", help="write a .docx or .csv report")
    p.set_defaults(func=cmd_agreement)

    p = sub.add_parser("assign", parents=[parent], help="assign a study to coders")
    add_project_arg(p)
    p.add_argument("study", metavar="STUDY_LABEL")
    p.add_argument("--coders", required=True, metavar="A,B")
    p.set_defaults(func=cmd_assign)

    p = sub.add_parser("submit", parents=[parent],
                       help="hand in a study: your coding of it is locked")
    add_project_arg(p)
    p.add_argument("study", metavar="STUDY_LABEL")
    p.set_defaults(func=cmd_submit)


# -- merge and bundle ----------------------------------------------------------------------


def _print_merge(report: merging.MergeReport) -> None:
    if report.dry_run:
        print(trn("{name} would bring {n} change:", "{name} would bring {n} changes:",
                  report.new_changes).format(name=report.source.name, n=report.new_changes))
    elif report.changed_nothing:
        print(tr("{name}: nothing new; the project is unchanged.").format(
            name=report.source.name))
        return
    else:
        print(trn("Merged {name}: {n} change.", "Merged {name}: {n} changes.",
                  report.new_changes).format(name=report.source.name, n=report.new_changes))
    for who, types in report.arrived.items():
        print(f"  {who or tr('(no coder)')}: {merging.arrived_text(types)}")
    if report.new_blobs:
        print("  " + tr("document files: {n}").format(n=report.new_blobs))
    print("  " + tr("new conflicts: {n} ({total} open)").format(n=report.new_conflicts,
                                                                total=report.conflicts_total))
    if report.incomplete:
        print("  " + report.incomplete_note)
    if report.backup:
        print("  " + tr("backup: {path}").format(path=report.backup))


def cmd_merge(args: argparse.Namespace) -> int:
    with open_session(args) as session:
        reports = merging.merge_projects(session, args.others, dry_run=args.dry_run)
    for r in reports:
        _warn(r)
    if args.json:
        print_json([r.to_dict() for r in reports])
        return 0
    for r in reports:
        _print_merge(r)
    if any(r.new_conflicts for r in reports) and not args.dry_run:
        print(tr("See them with 'cmo-desk conflicts {project}'.").format(project=args.project))
    return 0


def _warn(r: merging.MergeReport) -> None:
    if r.rejected:
        print(tr("cmo-desk: warning: {n} change(s) in {name} were left out: they, or other "
                 "changes to the same records, did not match their content id (the file was "
                 "altered or damaged). Everything else was merged. Ask for a fresh copy of "
                 "{name} to bring the rest.").format(
            n=r.rejected, name=r.source.name), file=sys.stderr)
    if r.rejected_blobs:
        print(tr("cmo-desk: warning: {n} document file(s) in {name} did not match their hash and "
                 "were left out.").format(n=r.rejected_blobs, name=r.source.name),
              file=sys.stderr)
    if r.far_future:
        print(tr("cmo-desk: warning: {n} changes in {name} are dated more than a day in the "
                 "future; the clock of laptop {site} is wrong (this laptop's clock was not "
                 "moved). The merge is still correct. Set that laptop's date right, then run "
                 "'cmo-desk repair' there.").format(
            n=r.far_future, name=r.source.name, site=r.future_laptop), file=sys.stderr)


def cmd_repair(args: argparse.Namespace) -> int:
    with open_session(args) as session:
        report = merging.repair_project(session)
    if args.json:
        print_json(report.to_dict())
        return 0
    if not report.corrected:
        print(tr("The visible records already match the change log; nothing was changed."))
    else:
        parts = ", ".join(f"{what} {n}" for what, n in report.corrected.items())
        print(tr("Rebuilt the visible records from the change log. Corrected: {parts}.").format(
            parts=parts))
    if report.clock_reset_from:
        print(tr("This laptop's clock stood at {when}, far in the future; it was set back to "
                 "the real time.").format(when=merging.iso_time(report.clock_reset_from)))
    return 0


def cmd_bundle(args: argparse.Namespace) -> int:
    with open_session(args, read_only=True) as session:
        if args.theirs is not None:
            dest, n, blobs = merging.make_delta_bundle(session, args.output, args.theirs)
            print(tr("Wrote {path}: {n} changes and {blobs} document file(s) that {theirs} "
                     "lacks ({size} KB).").format(path=dest, n=n, blobs=blobs,
                                                 theirs=args.theirs.name,
                                                 size=max(1, dest.stat().st_size // 1024)))
            return 0
        dest, n = merging.make_bundle(session, args.output)
    print(tr("Wrote {path} ({n} changes, no document files).").format(path=dest, n=n))
    return 0


# -- conflicts -----------------------------------------------------------------------------


def _show_value(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def cmd_conflicts(args: argparse.Namespace) -> int:
    with open_session(args, read_only=True) as session:
        found = merging.list_conflicts(session)
    if args.json:
        print_json([c.to_dict() for c in found])
        return 0
    if not found:
        print(tr("No conflicts."))
        return 0
    for c in found:
        print(f"{c.number}. {c.entity_type} \u00ab{c.label}\u00bb  [{c.entity_type}:{c.entity_id}]")
        field = tr("exists (deleted or kept)") if c.field == "exists" else c.field
        print("   " + tr("field: {field} ({kind})").format(field=field, kind=c.kind))
        story = _kind_story(c.kind)
        if story:
            print("   " + story)
        words = c.words()
        for i, v in enumerate(c.values, start=1):
            data = c.to_dict()["values"][i - 1]
            print(f"   [{i}] {words[i - 1] or _show_value(v.value)}  \u2014 "
                  f"{data['coder'] or tr('(no coder)')}, {data['time']}")
        if c.ancestors:
            started = "; ".join((c.ancestor_words[i] if i < len(c.ancestor_words) else "")
                                or _show_value(a) for i, a in enumerate(c.ancestors))
            print("   " + tr("started from: {value}").format(value=started))
    return 0


def _kind_story(kind: str) -> str:
    """What happened, in words, for the conflicts between records and around deletions."""
    return {
        "edit_vs_delete": tr("Deleted on one laptop while changed on another. Settle it with "
                             "--restore or --keep-deleted."),
        "delete_vs_restore": tr("Deleted on one laptop while kept or restored (and perhaps "
                                "changed) on another. Settle it with --restore or "
                                "--keep-deleted."),
        "code_in_use": tr("The code was deleted while excerpts or CMOCs still use it (perhaps "
                          "coded on another laptop). --restore keeps the code; --keep-deleted "
                          "removes those taggings."),
        "study_in_use": tr("The study was deleted while CMOCs on it are still kept (perhaps "
                           "edited on another laptop). --restore keeps the study; "
                           "--keep-deleted deletes those CMOCs."),
        "parent_cycle": tr("Codes were moved under each other on two laptops, so they form a "
                           "circle. --pick N keeps move N (the others go to the top level); "
                           "--value null puts this code at the top level."),
    }.get(kind, "")


def _parse_entity(text: str) -> tuple[str, str]:
    etype, sep, eid = text.partition(":")
    if not sep or not etype or not eid:
        raise ValidationError(tr("Give the record as TYPE:ID, as listed by 'cmo-desk conflicts'."))
    return etype.strip(), eid.strip()


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def cmd_resolve(args: argparse.Namespace) -> int:
    etype, eid = _parse_entity(args.entity)
    with open_session(args) as session:
        if args.keep_deleted or args.restore:
            merging.resolve_exists(session, etype, eid, keep=bool(args.restore))
        else:
            if not args.field:
                raise ValidationError(tr("Say which field with --field."))
            if args.pick is not None:
                merging.resolve_pick(session, etype, eid, args.field, args.pick)
            else:
                merging.resolve_with_value(session, etype, eid, args.field,
                                           _parse_value(args.value))
        left = len(merging.list_conflicts(session))
    print(trn("Resolved. {n} conflict left.", "Resolved. {n} conflicts left.", left).format(n=left))
    return 0


# -- duplicates ----------------------------------------------------------------------------


def cmd_duplicates(args: argparse.Namespace) -> int:
    writing = bool(args.accept or args.accept_all or args.reject)
    with open_session(args, read_only=not writing) as session:
        proposals = duplicate_service.find_duplicates(session)
        accepted: list[duplicate_service.DuplicateProposal] = []
        rejected: list[duplicate_service.DuplicateProposal] = []
        for number in (args.accept, args.reject):
            if number is not None and not 1 <= number <= len(proposals):
                raise ValidationError(tr("Choose a proposal between 1 and {n}.").format(
                    n=len(proposals)))
        if args.accept is not None:
            accepted = [proposals[args.accept - 1]]
        elif args.accept_all:
            accepted = proposals
        elif args.reject is not None:
            rejected = [proposals[args.reject - 1]]
        for prop in accepted:
            duplicate_service.accept_duplicate(session, prop)
        for prop in rejected:
            duplicate_service.reject_duplicate(session, prop)
    if args.json:
        print_json({"proposals": [p.to_dict() for p in proposals],
                    "accepted": [p.number for p in accepted],
                    "rejected": [p.number for p in rejected]})
        return 0
    if rejected:
        for p in rejected:
            print(tr("Kept {dup} and {keep} apart; they will not be proposed again.").format(
                dup=p.duplicate_label, keep=p.keep_label))
        return 0
    if accepted:
        for p in accepted:
            print(tr("Merged {dup} into {keep}.").format(dup=p.duplicate_label,
                                                        keep=p.keep_label))
        return 0
    if not proposals:
        print(tr("No duplicates found."))
        return 0
    for p in proposals:
        print(f"{p.number}. {duplicate_service.kind_title(p.kind)}: \u00ab{p.duplicate_label}\u00bb \u2192 "
              f"\u00ab{p.keep_label}\u00bb  ({p.reason})")
    print(tr("Accept one with --accept N, or all with --accept-all; "
             "reject one with --reject N."))
    return 0


# -- agreement -----------------------------------------------------------------------------


def _fmt(value: float | None, digits: int = 2) -> str:
    return "\u2014" if value is None else f"{value:.{digits}f}"


def _pct(value: float | None) -> str:
    return "\u2014" if value is None else f"{value:.1f} %"


def cmd_agreement(args: argparse.Namespace) -> int:
    coders = [c for c in (args.coders or "").split(",") if c.strip()] or None
    with open_session(args, read_only=True) as session:
        report = agreement_service.agreement_report(session, coders)
    if args.output:
        path = agreement_service.export_agreement(report, args.output, current_language())
        print(tr("Wrote {path}.").format(path=path), file=sys.stderr if args.json else sys.stdout)
    data = report.to_dict()
    if args.json:
        print_json(data)
        return 0
    print(tr("Coders: {names}").format(names=", ".join(report.coder_names)))
    share = report.double_coded_share
    print(tr("Studies double-coded: {n} of {total} ({share})").format(
        n=report.studies_double_coded, total=report.studies_total,
        share=_pct(share * 100 if share is not None else None)))
    # padded by the columns each character takes, so Chinese names and headings line up too
    print(f"{fit_columns(tr('Code'), 40)} {fit_columns(tr('units'), 6, '>')} {'kappa':>7} {'alpha':>7} "
          f"{fit_columns(tr('agree'), 8, '>')}")
    for row in (*report.per_code, report.pooled):
        print(f"{fit_columns(tr(row.code_name), 40)} {row.units:>6} {_fmt(row.kappa):>7} {_fmt(row.alpha):>7} "
              f"{_pct(row.percent):>8}")
    if report.codes_unused:
        print(trn("{n} code was not applied by these coders in double-coded studies.",
                  "{n} codes were not applied by these coders in double-coded studies.",
                  report.codes_unused).format(n=report.codes_unused))
    for note in report.notes:
        print(note)
    return 0


# -- assignments ---------------------------------------------------------------------------


def cmd_assign(args: argparse.Namespace) -> int:
    with open_session(args) as session:
        study_id = desk_rules.study_by_label(session, args.study)
        coder_ids = agreement_service.coder_ids_from_names(
            session, [c for c in args.coders.split(",") if c.strip()])
        coding.assign(session, study_id, coder_ids)
    print(tr("Assigned {study} to {n} coders.").format(study=args.study, n=len(coder_ids)))
    return 0


def cmd_submit(args: argparse.Namespace) -> int:
    with open_session(args) as session:
        study_id = desk_rules.study_by_label(session, args.study)
        coding.submit_study(session, study_id)
    print(tr("Submitted {study}; your coding of it is now locked.").format(study=args.study))
    return 0
