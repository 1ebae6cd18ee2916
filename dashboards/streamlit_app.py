"""pm-intel dashboards: the router (pages arrive with the dashboards work)."""

import streamlit as st

st.set_page_config(page_title="pm-intel", layout="wide")
st.title("pm-intel")
st.write("Market intelligence for Polymarket. Pages are being built.")
