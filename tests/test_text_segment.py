"""Tests for dedup.text (normalisation, units) and dedup.segment (sentences)."""

import numpy as np
import pandas as pd
import pytest
import xxhash

from dedup.params import Params
from dedup.segment import SEGMENT_COLUMNS, segment, sentence_spans
from dedup.text import hash_units, normalize, units

DEFAULT = Params()


def content_units(text: str, params: Params = DEFAULT) -> list[str]:
    return units(normalize(text), params)


def sentences(text: str) -> list[str]:
    return [text[start:end] for _, start, end in sentence_spans(text)]


def paragraphs(text: str) -> list[int]:
    return [para for para, _, _ in sentence_spans(text)]


# --- normalize -------------------------------------------------------------


def test_normalize_folds_width_variants_and_case():
    assert normalize("ＡＢＣ") == "abc"
    assert normalize("Ｔｏｋｙｏ　２０２４") == "tokyo 2024"  # full-width letters, digits, ideographic space
    assert normalize("ﬁnance") == "finance"  # NFKC ligature


def test_normalize_straightens_quotes_and_dashes():
    assert normalize("“Yes,” she said — it’s ‘done’ – «fini» „ja“") == (
        '"yes," she said - it\'s \'done\' - "fini" "ja"')
    assert normalize("minus −5") == "minus -5"


def test_normalize_collapses_whitespace_and_strips():
    assert normalize("  The\tcouncil \n\n met\u00a0today  ") == "the council met today"


def test_normalize_casefolds_rather_than_lowercases():
    assert normalize("STRASSE") == normalize("Straße") == "strasse"


def test_normalize_removes_soft_hyphens():
    assert normalize("co\u00adoperation") == "cooperation"


def test_typographic_variants_of_one_sentence_normalise_identically():
    plain = 'The minister said: "We\'re ready" - 2024.'
    fancy = "The  Minister said: “We’re ready” — ２０２４."
    assert normalize(plain) == normalize(fancy)


# --- units -----------------------------------------------------------------


def test_content_units_drop_short_words_cut_long_ones_and_keep_numbers_whole():
    text = "The mayor of Springfield said on Tuesday that 124,000 residents were evacuated"
    # words of < 4 chars dropped, others cut to 5 chars, the number kept whole
    assert content_units(text) == ["mayor", "sprin", "said", "tuesd", "that", "124,000",
                                   "resid", "were", "evacu"]


def test_short_numbers_and_decimals_are_single_units():
    assert content_units("5 of 12 died and 3.5 percent fled") == ["5", "12", "died", "3.5", "perce", "fled"]


def test_units_follow_min_word_len_and_stem_len():
    params = Params(min_word_len=2, stem_len=3)
    assert content_units("An ox is big", params) == ["an", "ox", "is", "big"]
    assert content_units("Evacuation orders", params) == ["eva", "ord"]


def test_words_mode_keeps_every_word_uncut():
    params = Params(units="words")
    assert content_units("The mayor of Springfield said 124,000 left", params) == [
        "the", "mayor", "of", "springfield", "said", "124,000", "left"]


def test_apostrophe_words_stay_one_unit():
    assert content_units("O’Brien doesn't agree", Params(units="words")) == ["o'brien", "doesn't", "agree"]


def test_cjk_text_without_spaces_gives_character_bigrams():
    assert content_units("今天下雨") == ["今天", "天下", "下雨"]
    assert content_units("東京タワー") == ["東京", "京タ", "タワ", "ワー"]
    # the same in words mode: there are no words to split on
    assert content_units("今天下雨", Params(units="words")) == ["今天", "天下", "下雨"]


@pytest.mark.parametrize("text, expected", [
    # Russian: "В" dropped as a short word, long words cut to 5 characters
    ("В Москве прошли переговоры о поставках зерна",
     ["москв", "прошл", "перег", "поста", "зерна"]),
    # Greek, including case folding of capitals
    ("Ο Πρωθυπουργός της Ελλάδας μίλησε στη Βουλή",
     ["πρωθυ", "ελλάδ", "μίλησ", "βουλή"]),
])
def test_spaced_non_latin_languages_work_like_english(text, expected):
    assert content_units(text) == expected


def test_same_rule_for_english_and_russian_sentence_of_same_shape():
    # Each sentence: one 1-letter word, one 2-letter word, three long words.
    english = content_units("A storm in Valparaiso flooded harbours")
    russian = content_units("А шторм в Вальпараисо затопил гавани")
    assert len(english) == len(russian) == 4
    assert all(len(u) <= 5 for u in english + russian)


def test_stopwords_are_dropped_case_insensitively_in_any_language():
    params = Params(stopwords=("Said", "TUESDAY", "когда"))
    assert content_units("Officials said on Tuesday that roads reopened", params) == [
        "offic", "that", "roads", "reope"]
    assert content_units("Когда дороги открылись снова", params) == ["дорог", "откры", "снова"]


def test_stopwords_are_dropped_in_words_mode_too():
    params = Params(units="words", stopwords=("the", "of"))
    assert content_units("The mayor of Springfield", params) == ["mayor", "springfield"]


def test_short_words_with_a_digit_are_kept():
    assert content_units("The G7 and G20 summits") == ["g7", "g20", "summi"]


def test_chars_mode_gives_character_kgrams_over_the_token_text():
    params = Params(units="chars", char_k=5)
    assert content_units("Abc,  def!", params) == ["abc d", "bc de", "c def"]
    # text shorter than k gives the text itself as its one unit
    assert content_units("Ab", params) == ["ab"]
    assert content_units("", params) == []


def test_hash_units_is_xxh64_of_every_unit_in_order():
    lists = [["mayor", "sprin"], [], ["mayor", "124,000", "москв"]]
    hashes = hash_units(lists)
    assert hashes.dtype == np.uint64
    expected = [xxhash.xxh64_intdigest(u.encode("utf-8")) for lst in lists for u in lst]
    assert hashes.tolist() == expected
    assert hash_units([]).shape == (0,)


# --- sentence_spans ----------------------------------------------------------

STORY = (
    "Officials in the U.S. said on Monday that the Harlow Dam would stay closed. "
    "Gen. Ana Ruiz, who leads the engineers, disagreed!\n"
    "Sgt. Peter Oduya told reporters the spillway was \"badly cracked.\" Was it safe? "
    "Nobody knew.\n\n"
    "Repairs, he said, could take\n"
    "until the spring.\n"
    "The next inspection is set for (early) March.)"
)


def test_spans_map_back_to_the_original_text_exactly():
    spans = sentence_spans(STORY)
    assert spans, "no sentences found"
    previous_end = 0
    for _, start, end in spans:
        piece = STORY[start:end]
        assert piece and piece == piece.strip()
        # nothing but whitespace between consecutive sentences: no text lost
        assert STORY[previous_end:start].strip() == ""
        previous_end = end
    assert STORY[previous_end:].strip() == ""


def test_sentences_of_a_story():
    assert sentences(STORY) == [
        "Officials in the U.S. said on Monday that the Harlow Dam would stay closed.",
        "Gen. Ana Ruiz, who leads the engineers, disagreed!",
        "Sgt. Peter Oduya told reporters the spillway was \"badly cracked.\"",
        "Was it safe?",
        "Nobody knew.",
        "Repairs, he said, could take\nuntil the spring.",
        "The next inspection is set for (early) March.)",
    ]
    assert paragraphs(STORY) == [0, 0, 1, 1, 1, 2, 3]


@pytest.mark.parametrize("text", [
    "Troops from the U.S. arrived on Friday.",
    "Gen. Mark Holloway inspected the base.",
    "The report was signed by Sgt. Lena Park of the county police.",
    "Dr. Amal Haddad and Mr. Ivo Petrov met at 9 a.m. Friday.",
])
def test_abbreviations_do_not_end_sentences(text):
    assert sentences(text) == [text]


def test_exclamation_and_question_marks_end_sentences():
    assert sentences("Fire! Where is it? Downtown, near the market.") == [
        "Fire!", "Where is it?", "Downtown, near the market."]


def test_punctuation_followed_by_lower_case_does_not_end_a_sentence():
    assert sentences('"Where is the money?" she asked. It was gone.') == [
        '"Where is the money?" she asked.', "It was gone."]


def test_blank_lines_start_new_paragraphs_even_without_final_punctuation():
    text = "Flood warning for Harlow\n\nThe river rose overnight. Roads closed."
    assert sentences(text) == ["Flood warning for Harlow", "The river rose overnight.", "Roads closed."]
    assert paragraphs(text) == [0, 1, 1]


def test_newline_after_full_stop_starts_a_paragraph_but_hard_wrap_does_not():
    text = ("The council met on Tuesday.\n"
            "Members voted to repair the old\n"
            "bridge before winter.\n")
    assert sentences(text) == ["The council met on Tuesday.",
                               "Members voted to repair the old\nbridge before winter."]
    assert paragraphs(text) == [0, 1]


def test_windows_line_endings_split_paragraphs_like_unix_ones():
    text = "Flood warning for Harlow\r\n\r\nThe river rose overnight. Roads closed."
    assert sentences(text) == ["Flood warning for Harlow", "The river rose overnight.", "Roads closed."]
    assert paragraphs(text) == [0, 1, 1]


@pytest.mark.parametrize("text, expected", [
    ("The bridge closed.  \t\nEngineers will inspect it.", [0, 1]),     # spaces before the line break
    ("The bridge closed.\r\nEngineers will inspect it.", [0, 1]),       # CRLF after the full stop
    ("Flood warning\n \t \nThe river rose.", [0, 1]),                  # a blank line holding spaces
    ('He said: "It is closed."\nEngineers agreed.', [0, 1]),           # after a closing quote
    ("The mayor said:\nrepairs start soon.", [0, 1]),                  # after a colon
    ("Members voted to repair \nthe bridge before winter.", [0]),      # a hard wrap, trailing space
])
def test_paragraph_breaks_at_line_ends(text, expected):
    assert paragraphs(text) == expected


def test_chinese_full_stops_split_without_spaces():
    text = "市政府周一宣布大桥关闭。工程师将检查桥墩！何时重开？尚不清楚"
    assert sentences(text) == ["市政府周一宣布大桥关闭。", "工程师将检查桥墩！", "何时重开？", "尚不清楚"]


@pytest.mark.parametrize("text, first", [
    ('He said: "We will rebuild." The crowd cheered.', 'He said: "We will rebuild."'),
    ("He said: “We will rebuild.” The crowd cheered.", "He said: “We will rebuild.”"),
    ("The vote was close (52 to 48.) Turnout was low.", "The vote was close (52 to 48.)"),
    ("她说：「我们会重建。」人群欢呼。", "她说：「我们会重建。」"),
])
def test_closing_quotes_and_brackets_stay_with_their_sentence(text, first):
    found = sentences(text)
    assert found[0] == first
    assert len(found) == 2


def test_empty_and_blank_text_has_no_sentences():
    assert sentence_spans("") == []
    assert sentence_spans(" \n\n\t ") == []


# --- segment -----------------------------------------------------------------


def documents(rows):
    return pd.DataFrame(rows, columns=["doc_id", "text", "status"])


def test_segment_only_ok_documents_and_hashes_match_units():
    docs = documents([
        ("a", "The Harlow Dam stays closed. Engineers found cracks in the spillway.", "ok"),
        ("b", "This record was rejected and must not be segmented at all.", "rejected"),
        ("c", "Repairs could take\nuntil spring.\n\nThe next inspection is in March.", "ok"),
    ])
    segments, hashes = segment(docs, DEFAULT)

    assert list(segments.columns) == SEGMENT_COLUMNS
    assert list(segments.doc_id) == ["a", "a", "c", "c"]
    assert list(segments.seg_no) == [0, 1, 0, 1]
    assert list(segments.para_no) == [0, 0, 0, 1]
    assert len(hashes) == segments.n_units.sum()
    assert hashes.dtype == np.uint64

    texts = dict(zip(docs.doc_id, docs.text))
    expected_hashes = []
    for row in segments.itertuples():
        original = texts[row.doc_id][row.start:row.end]
        assert row.text == normalize(original)
        sentence_units = units(row.text, DEFAULT)
        assert row.n_units == len(sentence_units)
        expected_hashes += [xxhash.xxh64_intdigest(u.encode("utf-8")) for u in sentence_units]
    assert hashes.tolist() == expected_hashes
    assert segments.text.iloc[2] == "repairs could take until spring."


def test_segment_without_ok_documents_is_empty():
    segments, hashes = segment(documents([("a", "Some text here.", "rejected")]), DEFAULT)
    assert segments.empty and list(segments.columns) == SEGMENT_COLUMNS
    assert len(hashes) == 0


@pytest.mark.parametrize("text, expected", [
    ("Watch it on all channels.As the media reported, it rose.",
     ["Watch it on all channels.", "As the media reported, it rose."]),
    ("The U.S.Army said so.", ["The U.S.Army said so."]),  # an abbreviation, not a glued sentence
    ("It rose 3.5 percent.Then it fell.", ["It rose 3.5 percent.", "Then it fell."]),
    ("See e.g.Ten Downing Street.", ["See e.g.Ten Downing Street."]),
    ("Visit example.com today.", ["Visit example.com today."]),
])
def test_sentences_glued_by_a_scraper_are_split_and_abbreviations_are_not(text, expected):
    assert sentences(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("یہ ایک جملہ ہے۔دوسرا جملہ یہاں ہے۔ کیا یہ تیسرا ہے؟ ہاں", ["یہ ایک جملہ ہے۔", "دوسرا جملہ یہاں ہے۔",
                                                           "کیا یہ تیسرا ہے؟", "ہاں"]),
    ("राम घर गया। सीता भी गई।", ["राम घर गया।", "सीता भी गई।"]),
    ("Նա տուն գնաց։ Նա վերադարձավ։", ["Նա տուն գնաց։", "Նա վերադարձավ։"]),
    ("هل جاء؟ نعم جاء.", ["هل جاء؟", "نعم جاء."]),
])
def test_sentence_marks_of_other_scripts_end_sentences(text, expected):
    assert sentences(text) == expected


def test_a_spaced_ellipsis_does_not_end_a_sentence():
    assert sentences("AFI's 100 Years . . . 100 Heroes list was named. Next one.") == [
        "AFI's 100 Years . . . 100 Heroes list was named.", "Next one."]
