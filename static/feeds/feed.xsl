<?xml version="1.0" encoding="utf-8"?>
<!-- Shows a feed as a readable page when someone opens it in a browser. -->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:atom="http://www.w3.org/2005/Atom">
  <xsl:output method="html" encoding="utf-8" doctype-system="about:legacy-compat"/>

  <xsl:template match="/">
    <xsl:variable name="title" select="rss/channel/title | atom:feed/atom:title"/>
    <html lang="en-GB">
      <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title><xsl:value-of select="$title"/> (news feed)</title>
        <link rel="stylesheet" href="/static/css/site.css"/>
      </head>
      <body>
        <main id="main" class="wrap">
          <div class="box">
            <h2>This is a news feed</h2>
            <p>Feed readers use this address to show you new items as they are published.
              To subscribe, copy the address of this page from your browser's address bar and
              paste it into your feed reader (for example Feedly, Inoreader, NetNewsWire or
              Thunderbird).</p>
            <p><a href="/feeds/">See all our news feeds</a></p>
          </div>
          <h1><xsl:value-of select="$title"/></h1>
          <p class="lede"><xsl:value-of select="rss/channel/description | atom:feed/atom:subtitle"/></p>
          <xsl:apply-templates select="rss/channel/item | atom:feed/atom:entry"/>
        </main>
      </body>
    </html>
  </xsl:template>

  <xsl:template match="item">
    <article class="card">
      <h2 class="card__title"><a href="{link}"><xsl:value-of select="title"/></a></h2>
      <p class="meta"><xsl:value-of select="substring(pubDate, 6, 11)"/></p>
      <p class="card__standfirst"><xsl:value-of select="description"/></p>
    </article>
  </xsl:template>

  <xsl:template match="atom:entry">
    <article class="card">
      <h2 class="card__title"><a href="{atom:link[@rel='alternate']/@href}"><xsl:value-of select="atom:title"/></a></h2>
      <p class="meta"><xsl:value-of select="substring(atom:published, 1, 10)"/></p>
      <p class="card__standfirst"><xsl:value-of select="atom:summary"/></p>
    </article>
  </xsl:template>
</xsl:stylesheet>
