import psycopg

from dashboards.components import md_escape
from tests.support.apptest import frame_with, open_page, texts, widget


def _count(url, sql, *params):
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchone()[0]


def test_search_and_filters(world):
    at = open_page("markets")
    table = frame_with(at, "question")
    assert len(table) == _count(world.url, "select count(*) from markets where active and not closed") == 5
    widget(at, "text_input", "Search").input("senate").run()
    assert sorted(frame_with(at, "question")["question"]) == sorted(
        [
            "Will the Democrats control the Senate?",
            "Will the Republicans control the Senate?",
            "Will another party control the Senate?",
        ]
    )
    widget(at, "text_input", "Search").input("").run()
    widget(at, "radio", "Status").set_value("all").run()
    widget(at, "selectbox", "Tag").set_value("Crypto").run()
    assert len(frame_with(at, "question")) == 2
    widget(at, "radio", "Status").set_value("closed").run()
    assert frame_with(at, "question")["question"].tolist() == [
        "Did Bitcoin close above $150k on November 30?"
    ]
    widget(at, "selectbox", "Tag").set_value("any").run()
    widget(at, "radio", "Status").set_value("all").run()
    widget(at, "number_input", "Min liquidity").set_value(150_000.0).run()
    assert len(frame_with(at, "question")) == _count(
        world.url, "select count(*) from markets where liquidity >= 150000"
    )


def test_sql_in_the_search_box_is_just_text(world):
    at = open_page("markets")
    for hostile in ("'; drop table markets; --", "%", "_", "\\"):
        widget(at, "text_input", "Search").input(hostile).run()
        assert not at.exception
        assert "No markets match these filters." in texts(at)
    assert _count(world.url, "select count(*) from markets") == 6


def test_market_drilldown(world):
    cid = world.markets["senate-democrats"]
    at = open_page("markets", market=cid)
    assert "Will the Democrats control the Senate?" in [h.value for h in at.header]
    page = texts(at)
    assert "[open on Polymarket](https://polymarket.com/event/us-senate-2026-control)" in page
    assert "[markets](http://127.0.0.1:3000/assets/markets)" in page
    assert len(at.get("plotly_chart")) == 2  # price with signals marked, book depth
    trades = frame_with(at, "transaction_hash")
    assert len(trades) == _count(world.url, "select count(*) from trades where condition_id = %s", cid)
    holders = frame_with(at, "holder")
    with psycopg.connect(world.url) as conn:
        expected = conn.execute(
            """select wallet, sum(case when side = 'BUY' then size else -size end) net from trades
               where condition_id = %s group by wallet, token_id having sum(case when side = 'BUY' then size
               else -size end) > 0 order by net desc limit 1""",
            (cid,),
        ).fetchone()
    assert holders.iloc[0]["wallet"] == expected[0]
    assert abs(holders.iloc[0]["net_size"] - expected[1]) < 1e-6
    words = "\n".join(frame_with(at, "evidence_words")["evidence_words"])
    assert "price moved from 0.30 to 0.52" in "\n".join(
        v for df in at.dataframe if "evidence_words" in df.value for v in df.value["evidence_words"]
    )
    assert words


def test_unknown_market_in_the_link(world):
    at = open_page("markets", market="0x" + "0" * 64)
    assert "Will the Republicans control the Senate?" in [
        h.value for h in at.header
    ]  # falls back to the top one


def test_upstream_titles_are_shown_as_text_not_markdown(world):
    title = "[Claim your prize](https://attacker.example) # $x^2$ **now**"
    with psycopg.connect(world.url, autocommit=True) as conn:
        condition_id = conn.execute(
            "select condition_id from markets order by volume desc limit 1"
        ).fetchone()[0]
        conn.execute("update markets set question = %s where condition_id = %s", (title, condition_id))
        conn.execute(
            "update events set title = %s where event_id = (select event_id from markets where condition_id = %s)",
            ("![img](https://attacker.example/x.png)", condition_id),
        )
    at = open_page("markets", market=condition_id)
    headers = [h.value for h in at.header]
    assert headers == [md_escape(title)]
    assert any(md_escape("![img](https://attacker.example/x.png)") in m.value for m in at.markdown)
    assert not any("](https://attacker.example" in m.value for m in at.markdown)
