from access.policy import visible_matters


def test_bob_sees_alices_matter_and_charlie_does_not(matter, bob, charlie, login):
    assert list(visible_matters(bob)) == [matter]
    assert list(visible_matters(charlie)) == []
    response = login(charlie).get(matter.get_absolute_url())
    assert response.status_code == 404


def test_documents_are_written_under_the_tests_tmp_path(matter, tmp_path):
    from tests.factories import make_document

    document = make_document(matter)
    assert (tmp_path / "documents" / str(matter.pk) / str(document.pk)).exists()
