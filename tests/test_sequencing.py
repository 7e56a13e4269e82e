"""A socket's ordering logic, without a socket."""

from __future__ import annotations

from games.sequencing import Arrival, Sequence


def test_a_new_socket_waits_for_its_snapshot_then_takes_events_in_order() -> None:
    sequence = Sequence()
    sequence.reset(4)  # the snapshot was at seq 4
    assert sequence.classify(4) is Arrival.OLD
    assert sequence.classify(5) is Arrival.NEXT
    sequence.sent(5)
    assert sequence.classify(5) is Arrival.OLD
    assert sequence.classify(7) is Arrival.GAP


def test_resending_older_events_on_request_never_moves_it_back() -> None:
    sequence = Sequence()
    sequence.reset(9)
    sequence.sent(3)  # a resync the client asked for
    assert sequence.last == 9
    assert sequence.classify(10) is Arrival.NEXT


def test_presence_and_chat_ahead_of_it_reveal_a_lost_event() -> None:
    sequence = Sequence()
    sequence.reset(2)
    assert not sequence.behind(2)
    assert sequence.behind(3)
