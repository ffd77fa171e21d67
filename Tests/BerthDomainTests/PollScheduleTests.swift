import BerthDomain
import Foundation
import Testing

@Suite("Adaptive polling of rollouts")
struct PollScheduleTests {
    let start = Date(timeIntervalSince1970: 1_795_000_000)

    /// Runs the schedule like a poller would, from `start` to `start + seconds`; returns the
    /// seconds (after `start`) at which it polled.
    func polls(_ schedule: inout PollSchedule, services: Int = 1, for seconds: Double) -> [Double] {
        var now = start
        var times: [Double] = []
        while now.timeIntervalSince(start) <= seconds {
            switch schedule.nextAction(at: now, services: services) {
            case .poll:
                schedule.polled(at: now)
                times.append(now.timeIntervalSince(start))
            case .wait(let duration):
                #expect(duration <= schedule.settings.fastInterval)
                now = now.addingTimeInterval(Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
            case .stop:
                return times
            }
        }
        return times
    }

    func gaps(_ times: [Double]) -> [Double] {
        zip(times, times.dropFirst()).map { ($1 - $0).rounded() }
    }

    @Test("A young rollout is polled every second for its first minute, then less often up to the configured interval")
    func youngThenBackOff() {
        var schedule = PollSchedule(settings: .init(ceiling: .seconds(5)))
        schedule.watchStarted(1, at: start)
        let times = polls(&schedule, for: 180)
        let firstMinute = times.filter { $0 <= 60 }
        #expect(firstMinute.count == 60)
        #expect(firstMinute.first == 1)
        #expect(gaps(firstMinute).allSatisfy { $0 == 1 })
        let later = gaps(times.filter { $0 >= 60 })
        #expect(later.prefix(8) == [2, 2, 2, 2, 2, 2, 2, 4], "\(later)")
        #expect(later.suffix(10).allSatisfy { $0 == 5 }, "\(later)")
        #expect(zip(later, later.dropFirst()).allSatisfy { $0 <= $1 })
    }

    @Test("A new rollout on a cluster that is already polled slowly brings the one-second polls back")
    func newWatchSpeedsUp() {
        var schedule = PollSchedule(settings: .init(ceiling: .seconds(5)))
        schedule.watchStarted(1, at: start.addingTimeInterval(-600))
        schedule.polled(at: start)
        #expect(schedule.nextAction(at: start.addingTimeInterval(1), services: 1) == .wait(.seconds(1)))
        schedule.watchStarted(2, at: start.addingTimeInterval(1.5))
        #expect(schedule.nextAction(at: start.addingTimeInterval(1.5), services: 2) == .poll)
        schedule.watchEnded(2)
        schedule.watchEnded(1)
        #expect(schedule.nextAction(at: start.addingTimeInterval(2), services: 0) == .stop)
    }

    @Test("A tick that takes several DescribeServices calls waits a second per call: at most 60 calls a minute")
    func callBudget() {
        var schedule = PollSchedule(settings: .init(ceiling: .seconds(5)))
        schedule.watchStarted(1, at: start)
        #expect(schedule.interval(at: start, services: 10) == .seconds(1))
        #expect(schedule.interval(at: start, services: 25) == .seconds(3))
        // Never slower than the configured interval, which was the fixed interval before.
        #expect(schedule.interval(at: start, services: 100) == .seconds(5))
        let times = polls(&schedule, services: 25, for: 60)
        #expect(times.count * 3 <= 60)
    }

    @Test("A configured interval under a second is used as it is")
    func shortCeiling() {
        var schedule = PollSchedule(settings: .init(ceiling: .milliseconds(250)))
        schedule.watchStarted(1, at: start)
        #expect(schedule.interval(at: start, services: 1) == .milliseconds(250))
        #expect(schedule.interval(at: start.addingTimeInterval(600), services: 1) == .milliseconds(250))
        #expect(polls(&schedule, for: 10).count == 40)
    }
}
