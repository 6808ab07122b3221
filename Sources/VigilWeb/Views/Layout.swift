import Vapor
import VigilCore

/// What every page's frame needs: title, who is signed in, the navigation they may use, the CSRF token.
struct Layout: Encodable {
    struct NavItem: Encodable {
        let href: String
        let label: String
        let current: Bool
    }

    let title: String
    let siteName: String
    let username: String?
    let roleLabel: String?
    let nav: [NavItem]
    let csrf: String
    let flash: String?

    init(_ req: Request, title: String, flash: String? = nil) {
        self.title = title
        self.siteName = req.application.storage[ServicesKey.self]?.configuration.siteName ?? "Vigil"
        self.csrf = req.csrfToken
        self.flash = flash
        if case .staff(let u, let role) = req.caller {
            username = u
            roleLabel = role.label
            let path = req.url.path
            nav = Navigation.items.filter { $0.rule.allows(role: role) }.map {
                NavItem(href: $0.href, label: $0.label, current: path == $0.href || path.hasPrefix($0.href + "/"))
            }
        } else {
            username = nil
            roleLabel = nil
            nav = []
        }
    }
}

/// The staff navigation. Each entry carries the same rule as its route, so a role sees only what it may open.
enum Navigation {
    static let items: [(href: String, label: String, rule: AccessRule)] = [
        ("/dashboard", "Dashboard", .anyStaff),
        ("/cases", "Reports", Rules.desk),
        ("/le/referred", "Referred cases", Rules.lawEnforcement),
        ("/rota", "On call", Rules.rotaReaders),
        ("/list", "Block list", Rules.listReaders),
        ("/hashset/review", "Hash review", Rules.hashReviewers),
        ("/takedown", "Takedown", Rules.takedownReaders),
        ("/admin/users", "Users", Rules.admin),
        ("/admin/apikeys", "API keys", Rules.admin),
        ("/admin/banks", "Hash banks", Rules.admin),
        ("/admin/partners", "Partners", Rules.admin),
        ("/admin/channels", "Channels", Rules.admin),
        ("/audit", "Audit log", Rules.audit),
        ("/checklist", "Checklist", Rules.checklistReaders),
        ("/admin/learn", "Public pages", Rules.admin),
    ]
}

/// Named access rules shared by routes and navigation.
enum Rules {
    static let admin = AccessRule.roles([.admin])
    static let audit = AccessRule.roles([.admin, .auditor])
    static let desk = AccessRule.roles([.analyst, .supervisor, .admin])
    static let lawEnforcement = AccessRule.roles([.leLiaison])
    static let caseReaders = AccessRule.roles([.analyst, .supervisor, .admin, .leLiaison])
    static let caseActors = AccessRule.roles([.analyst, .supervisor, .admin, .leLiaison])
    /// Who proposes, verifies and removes block-list entries.
    static let listDeskRoles: Set<Role> = [.analyst, .supervisor, .admin]
    static let listDesk = AccessRule.roles(listDeskRoles)
    /// Who reads the block list (auditors: read-only, addresses defanged).
    static let listReaders = AccessRule.roles([.analyst, .supervisor, .admin, .auditor])
    /// Who reviews hash set records (supervisors and admins also settle disagreements).
    static let hashReviewers = AccessRule.roles([.analyst, .supervisor, .leLiaison, .admin])
    static let hashSupervisors = AccessRule.roles([.supervisor, .admin])
    /// Who reads the takedown figures and escalations.
    static let takedownReaders = AccessRule.roles([.supervisor, .admin, .auditor])
    /// Who decides appeals.
    static let appealDeciders = AccessRule.roles([.supervisor, .admin])
}
