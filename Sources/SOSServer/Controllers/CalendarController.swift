import Foundation
import Hummingbird
import SOSDomain

/// `GET /api/v1/calendar/token` (the caller's subscription URL) and the public `GET /api/v1/calendar/feed.ics?token=…`.
struct CalendarController {
    let calendar: CalendarService

    func addRoutes(to group: RouterGroup<AuthenticatedContext>) {
        group.get("token", use: self.token)
    }

    func addPublicRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get("feed.ics", use: self.feed)
    }

    @Sendable func token(_ request: Request, context: AuthenticatedContext) async throws -> CalendarTokenPayload {
        let rotate = try QueryParameters(request).bool("rotate") ?? false
        let token = try await self.calendar.token(context.principal, rotate: rotate)
        return CalendarTokenPayload(token: token, url: "/api/v1/calendar/feed.ics?token=\(token)")
    }

    @Sendable func feed(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let token = try QueryParameters(request).string("token") else {
            throw APIError.badRequest("'token' is required; get your feed URL from GET /api/v1/calendar/token.")
        }
        let (user, appointments) = try await self.calendar.feed(token: token)
        let text = ICalendar.feed(for: user, appointments: appointments, now: Date())
        return Response(
            status: .ok,
            headers: [.contentType: "text/calendar; charset=utf-8", .cacheControl: "private, max-age=300"],
            body: .init(byteBuffer: ByteBuffer(string: text))
        )
    }
}

/// RFC 5545 calendar text: CRLF line ends, lines folded at 75 octets, TEXT values escaped.
enum ICalendar {
    static func feed(for user: User, appointments: [AppointmentDetails], now: Date) -> String {
        var lines = [
            "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//SOS Tourist Doctor//Appointments//EN", "CALSCALE:GREGORIAN", "METHOD:PUBLISH",
            "X-WR-CALNAME:\(Self.escape("SOS Tourist Doctor — \(user.name)"))", "REFRESH-INTERVAL;VALUE=DURATION:PT15M",
        ]
        for details in appointments {
            let appointment = details.appointment
            let isPatient = appointment.patientId == user.id
            let other = isPatient ? details.doctor.person.name : details.patient.name
            let status =
                switch appointment.status {
                case .cancelled, .paymentFailed: "CANCELLED"
                case .pendingPayment: "TENTATIVE"
                default: "CONFIRMED"
                }
            // step: no symptoms or notes: calendar services store the feed, and its URL is a bearer secret
            let description = "\(appointment.consultationType.rawValue.capitalized) consultation (\(appointment.status.rawValue))."
            lines += [
                "BEGIN:VEVENT",
                "UID:\(appointment.id.apiString)@sos-tourist-doctor",
                "DTSTAMP:\(Self.utc(now))",
                "DTSTART:\(Self.utc(appointment.startsAt))",
                "DTEND:\(Self.utc(appointment.endsAt))",
                "LAST-MODIFIED:\(Self.utc(appointment.updatedAt))",
                "SUMMARY:\(Self.escape("\(appointment.consultationType.rawValue.capitalized) appointment with \(other)"))",
                "DESCRIPTION:\(Self.escape(description))",
                "STATUS:\(status)",
            ]
            if appointment.consultationType == .home, case .string(let place)? = appointment.visitLocation?["address"] {
                lines.append("LOCATION:\(Self.escape(place))")
            }
            lines.append("END:VEVENT")
        }
        lines.append("END:VCALENDAR")
        return lines.map(Self.fold).joined(separator: "\r\n") + "\r\n"
    }

    /// `YYYYMMDDTHHMMSSZ`.
    static func utc(_ date: Date) -> String {
        let text = Timestamp.string(from: date)  // 2026-11-25T09:30:00.000Z
        return text.prefix(19).replacingOccurrences(of: "-", with: "").replacingOccurrences(of: ":", with: "") + "Z"
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: ";", with: "\\;")
            .replacingOccurrences(of: ",", with: "\\,").replacingOccurrences(of: "\r\n", with: "\\n").replacingOccurrences(of: "\n", with: "\\n")
            .replacingOccurrences(of: "\r", with: "\\n")
    }

    /// Folds a content line into chunks of at most 75 octets, never splitting a UTF-8 character.
    static func fold(_ line: String) -> String {
        var result = ""
        var lineBytes = 0
        var limit = 75
        for character in line {
            let size = String(character).utf8.count
            if lineBytes + size > limit {
                result += "\r\n "
                lineBytes = 0
                limit = 74
            }
            result.append(character)
            lineBytes += size
        }
        return result
    }
}
