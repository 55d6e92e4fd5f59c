-- The language of an editor's desk pages, chosen by the editor; the pages exist in these three.
ALTER TABLE editors
    ADD COLUMN language text NOT NULL DEFAULT 'en' CHECK (language IN ('en', 'ru', 'kk'));
