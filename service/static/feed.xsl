<?xml version="1.0" encoding="UTF-8"?>
<!-- An Atom feed as a Russian page for a person who opened it in a browser:
     what the feed is, how to subscribe, and its newest entries. Feed readers
     ignore the <?xml-stylesheet?> instruction that points here. No inline
     styles or scripts: the page uses the site's stylesheet (the CSP allows no
     'unsafe-inline'). -->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:atom="http://www.w3.org/2005/Atom"
    exclude-result-prefixes="atom">
  <xsl:output method="html" encoding="UTF-8" indent="yes" doctype-system="about:legacy-compat"/>

  <xsl:variable name="self" select="/atom:feed/atom:link[@rel='self']/@href"/>
  <xsl:variable name="site" select="/atom:feed/atom:link[@rel='alternate' and @type='text/html']/@href"/>

  <xsl:template match="/atom:feed">
    <html lang="ru">
      <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title>Лента: <xsl:value-of select="atom:title"/></title>
        <link rel="stylesheet" href="/static/style.css"/>
      </head>
      <body>
        <header class="site">
          <a class="brand" href="/">Обмен опытом АСДГ</a>
          <nav aria-label="Разделы">
            <ul>
              <li><a href="/">Новое</a></li>
              <li><a href="/feeds" aria-current="page">Ленты</a></li>
            </ul>
          </nav>
        </header>
        <main id="main">
          <p class="feed-note">Это лента новостей — адрес для программы чтения лент. Её не нужно
            читать в браузере: подпишитесь, и новые записи придут к вам сами.</p>
          <h1><xsl:value-of select="atom:title"/></h1>
          <section class="subscribe" aria-labelledby="how-title">
            <h2 id="how-title">Как подписаться</h2>
            <ol>
              <li>Скопируйте адрес ленты:
                <code class="feed-url"><xsl:value-of select="$self"/></code></li>
              <li>Откройте программу или сервис для чтения лент (например, Feeder, NetNewsWire,
                Thunderbird, Inoreader или Яндекс Браузер) и добавьте в неё этот адрес.</li>
              <li>Новые практики и мероприятия будут появляться там сами, открывать сайт не нужно.</li>
            </ol>
            <p>Все ленты сервера — на странице <a href="/feeds">«Ленты»</a>, там же список
              для программ чтения (OPML).
              <xsl:if test="$site"> Страница на сайте: <a href="{$site}"><xsl:value-of select="$site"/></a>.</xsl:if>
            </p>
          </section>
          <section aria-labelledby="entries-title">
            <h2 id="entries-title">Записи в ленте</h2>
            <xsl:choose>
              <xsl:when test="atom:entry">
                <div class="cards">
                  <xsl:apply-templates select="atom:entry"/>
                </div>
              </xsl:when>
              <xsl:otherwise>
                <p class="empty">В ленте пока нет записей.</p>
              </xsl:otherwise>
            </xsl:choose>
          </section>
        </main>
      </body>
    </html>
  </xsl:template>

  <xsl:template match="atom:entry">
    <article class="card">
      <h3>
        <a href="{atom:link[not(@rel) or @rel='alternate'][1]/@href}"><xsl:value-of select="atom:title"/></a>
      </h3>
      <p class="meta">
        <xsl:value-of select="atom:author/atom:name"/>
        <xsl:if test="atom:updated">
          <xsl:text> · обновлено </xsl:text>
          <time datetime="{atom:updated}"><xsl:value-of select="substring(atom:updated, 1, 10)"/></time>
        </xsl:if>
      </p>
      <xsl:if test="atom:summary">
        <p><xsl:value-of select="atom:summary"/></p>
      </xsl:if>
    </article>
  </xsl:template>
</xsl:stylesheet>
