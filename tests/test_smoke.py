from access.policy import visible_matters


def test_bob_sees_alices_matter_and_charlie_does_not(matter, bob, charlie, login):
    assert list(visible_matters(bob)) == [matter]
    assert list(visible_matters(charlie)) == []
    response = login(charlie).get(matter.get_absolute_url())
    assert response.status_code == 404
