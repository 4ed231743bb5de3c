import Foundation

/// A latitude/longitude range: the index-friendly first cut of a radius search.
public struct BoundingBox: Sendable, Equatable {
    public var minLatitude: Double
    public var maxLatitude: Double
    /// nil when the box spans every longitude (near a pole or across the antimeridian).
    public var longitudes: ClosedRange<Double>?

    public init(minLatitude: Double, maxLatitude: Double, longitudes: ClosedRange<Double>?) {
        self.minLatitude = minLatitude
        self.maxLatitude = maxLatitude
        self.longitudes = longitudes
    }
}

/// Great-circle geometry on a spherical Earth, good to well under 1 % at city scale.
public enum Geo {
    static let earthRadiusKm = 6371.0088
    static let kmPerDegree = 111.32

    /// Haversine distance in km.
    public static func distanceKm(_ lat1: Double, _ lon1: Double, _ lat2: Double, _ lon2: Double) -> Double {
        let dLat = (lat2 - lat1) * .pi / 180
        let dLon = (lon2 - lon1) * .pi / 180
        let a = sin(dLat / 2) * sin(dLat / 2) + cos(lat1 * .pi / 180) * cos(lat2 * .pi / 180) * sin(dLon / 2) * sin(dLon / 2)
        return 2 * Self.earthRadiusKm * asin(min(1, sqrt(a)))
    }

    /// The box that contains every point within `radiusKm` of the centre.
    public static func box(latitude: Double, longitude: Double, radiusKm: Double) -> BoundingBox {
        let dLat = radiusKm / Self.kmPerDegree
        let minLat = max(-90, latitude - dLat)
        let maxLat = min(90, latitude + dLat)
        let cosine = cos(max(abs(minLat), abs(maxLat)) * .pi / 180)
        guard cosine > 0.01 else { return BoundingBox(minLatitude: minLat, maxLatitude: maxLat, longitudes: nil) }
        let dLon = radiusKm / (Self.kmPerDegree * cosine)
        guard longitude - dLon >= -180, longitude + dLon <= 180 else { return BoundingBox(minLatitude: minLat, maxLatitude: maxLat, longitudes: nil) }
        return BoundingBox(minLatitude: minLat, maxLatitude: maxLat, longitudes: (longitude - dLon)...(longitude + dLon))
    }

    /// One of eight compass points from the first point towards the second ("north-east").
    public static func compass(from lat1: Double, _ lon1: Double, to lat2: Double, _ lon2: Double) -> String {
        let φ1 = lat1 * .pi / 180
        let φ2 = lat2 * .pi / 180
        let Δλ = (lon2 - lon1) * .pi / 180
        let y = sin(Δλ) * cos(φ2)
        let x = cos(φ1) * sin(φ2) - sin(φ1) * cos(φ2) * cos(Δλ)
        let bearing = (atan2(y, x) * 180 / .pi + 360).truncatingRemainder(dividingBy: 360)
        let points = ["north", "north-east", "east", "south-east", "south", "south-west", "west", "north-west"]
        return points[Int((bearing + 22.5) / 45) % 8]
    }

    /// A distance as doctors are shown it before they accept: whole kilometres, at least 1.
    public static func approximateKm(_ km: Double) -> Int {
        max(1, Int(km.rounded()))
    }
}
