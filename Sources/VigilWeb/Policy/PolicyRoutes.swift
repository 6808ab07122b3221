import Vapor
import VigilCore

/// The policy pages (#9): the national checklist (staff), the global legislation review, the awareness pages and
/// the transparency page (public), with their staff editors. Same table style and access rules as `routes`.
func policyRoutes(_ app: Application) {
    // MARK: public
    app.on(.GET, ["learn"], access: .publicAccess, use: AwarenessController.index)
    app.on(.GET, ["learn", ":slug"], access: .publicAccess, use: AwarenessController.page)
    app.on(.GET, ["global-review"], access: .publicAccess, use: GlobalReviewController.page)
    app.on(.GET, ["global-review.csv"], access: .publicAccess, use: GlobalReviewController.csv)
    app.on(.GET, ["transparency"], access: .publicAccess, use: TransparencyController.page)
    app.on(.GET, ["transparency", ":figure"], access: .publicAccess, use: TransparencyController.csv)

    // MARK: staff: the national checklist
    app.on(.GET, ["checklist"], access: Rules.checklistReaders, use: ChecklistController.page)
    app.on(.POST, ["checklist", "items", ":id"], access: Rules.checklistEditors, use: ChecklistController.update)
    app.on(.GET, ["checklist", "report"], access: Rules.checklistReaders, use: ChecklistController.report)
    app.on(.GET, ["checklist", "report.csv"], access: Rules.checklistReaders, use: ChecklistController.reportCSV)
    app.on(.GET, ["checklist", "history"], access: Rules.checklistReaders, use: ChecklistController.history)

    // MARK: staff: administrators edit the public pages
    app.on(.GET, ["admin", "learn"], access: Rules.admin, use: AwarenessController.adminList)
    app.on(.POST, ["admin", "learn"], access: Rules.admin, use: AwarenessController.adminCreate)
    app.on(.GET, ["admin", "learn", ":slug", ":lang"], access: Rules.admin, use: AwarenessController.editor)
    app.on(.POST, ["admin", "learn", ":slug", ":lang"], access: Rules.admin, use: AwarenessController.save)
    app.on(.GET, ["admin", "global-review"], access: Rules.admin, use: GlobalReviewController.editor)
    app.on(.POST, ["admin", "global-review"], access: Rules.admin, use: GlobalReviewController.save)
}
